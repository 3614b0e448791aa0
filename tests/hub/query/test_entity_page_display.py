"""The entity page on a phone: local times, long types that wrap, a visible point for one reading."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from cityos.hub.ngsi import service
from tests.factories import session_cookie


def sign_in(client: TestClient, session: Session, account: int) -> None:
    client.cookies.set("cityos_session", session_cookie(session, account))


def test_last_modified_is_local_time(client: TestClient, session: Session, officer: int, hub_entities: str) -> None:
    sign_in(client, session, officer)
    entity = service.get_entity(session, tenant=hub_entities, entity_id="urn:ngsi-ld:WasteContainer:q2")
    assert entity is not None
    modified = datetime.fromisoformat(entity["modifiedAt"].replace("Z", "+00:00"))
    html = client.get("/hub/entities/urn:ngsi-ld:WasteContainer:q2?tenant=qtest").text
    shown = re.search(r'data-testid="modified">([^<]*)<', html)
    assert shown is not None
    assert shown.group(1) == modified.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%m-%d %H:%M")
    assert f'title="{entity["modifiedAt"]}"' in html  # the exact moment stays on hover


def test_long_type_wraps_in_its_box(client: TestClient, session: Session, officer: int) -> None:
    sign_in(client, session, officer)
    service.upsert_attributes(
        session,
        tenant="wrap",
        entity_id="urn:ngsi-ld:DeviceMeasurement:1",
        entity_type="DeviceMeasurement",
        attrs={"numValue": {"type": "Property", "value": 3.5}},
    )
    session.flush()
    html = client.get("/hub/entities/urn:ngsi-ld:DeviceMeasurement:1?tenant=wrap").text
    assert re.search(r'class="value hub-wrap"[^>]*data-testid="entity-type">DeviceMeasurement<', html)
    rule = re.search(r"\.stat \.value\.hub-wrap\s*\{([^}]*)\}", html)
    assert rule is not None
    assert "overflow-wrap: anywhere" in rule.group(1)


def test_history_chart_shows_symbols_for_few_points(client: TestClient) -> None:
    script = client.get("/hub/hub.js").text
    # one observation is a line of one point: echarts draws nothing unless its symbol is shown
    assert "showSymbol: false" not in script
    assert re.search(r"showSymbol: points\.length <= \d+", script)
