"""The open platform offers mobility's guidance feed (``mobility.guidance``) to approved apps
granted traffic:read, within the app's region, once per message."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from cityos.core import bus
from cityos.core.errors import Invalid
from cityos.hub.apps import service, webhooks
from cityos.hub.apps.models import WebhookDelivery
from cityos.mobility.events import GuidanceIssued
from tests.hub.apps.fixtures import AppWorld, app_input

INSIDE = (104.012, 30.012)  # district A, where the test app acts
OUTSIDE = (104.15, 30.05)  # district B


def _guidance(n: int, where: tuple[float, float]) -> GuidanceIssued:
    return GuidanceIssued(
        message_id=f"msg-{n}",
        alert_id=f"al-{n}",
        kind="congestion",
        target_id="n0_0-n0_1",
        text_zh="快速路路段 n0_0-n0_1严重拥堵，请绕行。",
        text_en="Expressway segment n0_0-n0_1: severe. Consider another route.",
        lon=where[0],
        lat=where[1],
        issued_at="2026-12-01T08:10:00+00:00",
    )


def _approved(session: Session, aw: AppWorld, scopes: list[str]):  # type: ignore[no-untyped-def]
    app = service.create_app(session, aw.dev, app_input(name="导航助手", requested_scopes=scopes))
    service.submit(session, aw.dev, app.id)
    service.approve(session, aw.reviewer, app.id, scopes=scopes, region_id=aw.world.district_a.id, rate_limit=600)
    return app


def test_guidance_is_queued_for_a_subscribed_app_in_its_region(
    session: Session, aw: AppWorld, client: TestClient
) -> None:
    # The app (client fixture) subscribes the open platform's handlers on its bus.
    assert "mobility.guidance" in webhooks.TOPICS
    app = _approved(session, aw, ["traffic:read", "region:read"])
    hook, _secret = webhooks.create_webhook(
        session, aw.dev, app.id, url="https://nav.example.org/hook", topics=["mobility.guidance"]
    )
    session.commit()
    for evt in (_guidance(1, INSIDE), _guidance(2, OUTSIDE)):
        bus.publish(session, evt)
    session.commit()
    session.expire_all()
    rows = list(session.scalars(select(WebhookDelivery).where(WebhookDelivery.webhook_id == hook.id)))
    assert [(r.topic, r.payload["message_id"]) for r in rows] == [("mobility.guidance", "msg-1")]
    assert webhooks.queue_event(session, "mobility.guidance", _guidance(1, INSIDE).model_dump(mode="json")) == 0


def test_the_guidance_topic_needs_traffic_read(session: Session, aw: AppWorld) -> None:
    app = _approved(session, aw, ["hub:read"])
    with pytest.raises(Invalid) as exc:
        webhooks.create_webhook(
            session, aw.dev, app.id, url="https://nav.example.org/hook", topics=["mobility.guidance"]
        )
    assert exc.value.details[0].params == {"topic": "mobility.guidance", "scope": "traffic:read"}
