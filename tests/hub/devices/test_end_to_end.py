"""A real reading path: a water gauge posts over the HTTP ingest with its key; the ingest writer
publishes DeviceObserved; the hub's rule opens one case; a repeated message changes nothing.
And the community parking feed's own checks (parking.sensor_state)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from cityos.cases.models import Case
from cityos.community.property import parking
from cityos.core.db import utcnow
from cityos.core.errors import Forbidden, Invalid
from cityos.hub.devices import service
from cityos.hub.ingest import service as ingest
from tests.hub.devices.fixtures import HubWorld, deliver


def test_a_reading_over_http_opens_a_case(client: TestClient, session: Session, hw: HubWorld) -> None:
    gauge, key = ingest.register_device(
        session,
        hw.officer,
        code="WL-HTTP",
        kind="water_level",
        name="下穿隧道积水",
        region_id=hw.w.street.id,
        profile_code="water-level",
        lon=104.03,
        lat=30.04,
    )
    session.commit()
    at = (utcnow() - timedelta(minutes=2)).isoformat()
    message = {"mid": "m-1", "ts": at, "values": {"level": 0.45}}
    sent = client.post("/device-api/v1/hub/observations", json=message, headers={"X-Device-Key": key})
    assert sent.status_code == 200, sent.text
    deliver(hw.runtime)
    again = client.post("/device-api/v1/hub/observations", json=message, headers={"X-Device-Key": key})
    assert again.json()["duplicates"] == 1
    deliver(hw.runtime)
    session.expire_all()
    made = list(session.scalars(select(Case)))
    assert len(made) == 1
    assert made[0].category_code == "event.04.04"
    assert "下穿隧道积水" in made[0].title
    alarms, total = service.open_alarms(session, hw.officer, device_id=gauge.id)
    assert total == 1
    assert alarms[0].state.value == 0.45


def test_parking_sensor_state_checks_its_input(session: Session, hw: HubWorld) -> None:
    spot = hw.device(session, "PS-X", "parking_spot", "parking-spot", region=hw.w.estate)
    gauge = hw.device(session, "WL-X", "water_level", "water-level")
    with pytest.raises(Forbidden):
        parking.sensor_state(session, gauge, occupied=True)
    for bad in ("yes", 1, None):
        with pytest.raises(Invalid) as exc:
            parking.sensor_state(session, spot, occupied=bad)
        assert exc.value.details[0].field == "occupied"
    with pytest.raises(Invalid) as exc:
        parking.sensor_state(session, spot, occupied=True, at=utcnow() + timedelta(hours=1))
    assert exc.value.details[0].field == "at"
    spot.state = {"occupied": True, "plate": "川A12345", "since": "2026-12-01T08:00:00+00:00"}
    parking.sensor_state(session, spot, occupied=True)  # the sensor agrees with the gate camera
    assert (spot.state["plate"], spot.state["since"]) == ("川A12345", "2026-12-01T08:00:00+00:00")
    parking.sensor_state(session, spot, occupied=False)
    assert spot.state == {"occupied": False, "plate": None, "since": None}
