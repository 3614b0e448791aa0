"""The ingest page: figures of the last hour, rejections with their reasons (no payload), the
bridge's state; device:manage only."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from cityos.hub.ingest import pipeline
from cityos.hub.ingest.pipeline import Inbound
from tests.factories import session_cookie
from tests.hub.ingest.conftest import IngestWorld, register


def test_the_ingest_page_shows_the_last_hour(client: TestClient, session: Session, iw: IngestWorld) -> None:
    device, _ = register(session, iw, "bin-p", "waste-container", kind="bin")
    pipeline.process(
        session,
        [
            Inbound(channel="http", device_id=device.id, body={"mid": "1", "values": {"fill": 50}}),
            Inbound(channel="http", device_id=device.id, body={"mid": "1", "values": {"fill": 50}}),
            Inbound(
                channel="http", device_id=device.id, body={"mid": "2", "values": {"fill": 4321}}, device_code="bin-p"
            ),
        ],
    )
    session.commit()
    client.cookies.set("cityos_session", session_cookie(session, iw.officer.account_id))  # type: ignore[arg-type]
    page = client.get("/hub/ingest", headers={"Accept-Language": "zh-CN"})
    assert page.status_code == 200
    html = page.text
    assert "物联接入" in html
    assert 'data-testid="accepted">1<' in html
    assert 'data-testid="duplicates">1<' in html
    assert 'data-testid="rejected">1<' in html
    assert "读数越界或类型错误" in html  # the reason
    assert "values.fill" in html
    assert "4321" not in html  # the payload is never shown
    assert "echarts.min.js" in html
    assert "未配置 MQTT 消息代理" in html
    live = client.get("/hub/ingest/live")
    assert live.status_code == 200
    assert "Latest rejected messages" in client.get("/hub/ingest/live", headers={"Accept-Language": "en"}).text


def test_the_ingest_page_needs_device_manage(client: TestClient, session: Session, iw: IngestWorld) -> None:
    client.cookies.set("cityos_session", session_cookie(session, iw.resident.account_id))  # type: ignore[arg-type]
    assert client.get("/hub/ingest").status_code == 403
    assert client.get("/hub/ingest/live").status_code == 403
