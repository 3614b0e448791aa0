"""``cityos hub`` commands of the subscriptions part: list, pause/resume (unknown id refused),
notifications-send; and the minute job (expiry, periodic, pruning)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import typer
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from cityos.core.actor import SYSTEM
from cityos.core.db import utcnow
from cityos.hub.ngsi.context import core_context
from cityos.hub.subscriptions import commands, service, tasks
from cityos.hub.subscriptions.models import HubNotification
from tests.hub.subscriptions.conftest import Receiver, body, change, entity


def cli(session: Session) -> typer.Typer:
    @contextmanager
    def work() -> Iterator[Session]:
        yield session
        session.commit()

    app = typer.Typer()
    commands.register(app, work)
    return app


def test_list_pause_resume_send(session: Session, tenant: str, receiver: Receiver) -> None:
    row = service.create(session, SYSTEM, tenant=tenant, body=body(receiver.url), expand=core_context().expand)
    service.on_changes(session, [change(tenant, entity("urn:ngsi-ld:Sensor:1", t=1))])
    session.commit()
    app, runner = cli(session), CliRunner()
    listed = runner.invoke(app, ["subscriptions", "--tenant", tenant])
    assert listed.exit_code == 0
    assert row.subscription_id in listed.output
    assert "active" in listed.output
    assert runner.invoke(app, ["subscription-pause", row.subscription_id, "--tenant", tenant]).exit_code == 0
    assert "paused" in runner.invoke(app, ["subscriptions", "--tenant", tenant]).output
    missing = runner.invoke(app, ["subscription-pause", "urn:ngsi-ld:Subscription:none", "--tenant", tenant])
    assert missing.exit_code == 1
    assert "does not exist" in missing.output
    assert runner.invoke(app, ["subscription-resume", row.subscription_id, "--tenant", tenant]).exit_code == 0
    sent = runner.invoke(app, ["notifications-send", "--wait", "3"])
    assert sent.exit_code == 0, sent.output
    assert "1 notification(s) sent" in sent.output
    assert len(receiver.wait(1)) == 1


def test_minute_job_expires_and_prunes(session: Session, tenant: str) -> None:
    row = service.create(
        session, SYSTEM, tenant=tenant, body=body("http://127.0.0.1:9/x"), expand=core_context().expand
    )
    service.on_changes(session, [change(tenant, entity("urn:ngsi-ld:Sensor:1", t=1))])
    service.on_changes(session, [change(tenant, entity("urn:ngsi-ld:Sensor:2", t=1))])
    session.flush()
    old, fresh = session.scalars(select(HubNotification).where(HubNotification.subscription_pk == row.id)).all()
    old.status, old.created_at = "delivered", utcnow() - timedelta(days=8)
    row.expires_at = utcnow() - timedelta(seconds=1)
    session.flush()
    tasks.periodic(session)
    session.expire_all()
    left = session.scalars(select(HubNotification).where(HubNotification.subscription_pk == row.id)).all()
    assert [n.id for n in left] == [fresh.id]  # the old outcome pruned
    assert left[0].status == "failed"  # the waiting one given up: the subscription expired
    assert left[0].last_error == "subscription expired"
