"""Permission-matrix entries of hub.devices (see tests/matrix_parts/base.py).

An alarm rule of grid 1 and one of grid 2, and a device with an open alarm in each: device
managers of grid 1 (data officers, administrators) see and change the first only."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from cityos.core.db import utcnow
from cityos.hub.devices.models import AlarmRule, AlarmState
from cityos.places.devices.models import Device
from tests.factories import World
from tests.matrix_parts.base import Case


def _rule_body(ids: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": "矩阵规则",
        "device_kind": "meter",
        "attribute": "numValue",
        "operator": ">",
        "threshold": 10,
        "category_code": "event.01.01",
        "region_id": ids["grid"],
    }


CASES: tuple[Case, ...] = (
    Case("GET", "/api/v1/hub/alarm-rules", "device:manage", list_key="", kind="alarm_rule", outside=False),
    Case("POST", "/api/v1/hub/alarm-rules", "device:manage", body=_rule_body),
    Case("PATCH", "/api/v1/hub/alarm-rules/{rule_id}", "device:manage", body=lambda i: {"threshold": 20}),
    Case("DELETE", "/api/v1/hub/alarm-rules/{rule_id}", "device:manage"),
    Case("GET", "/api/v1/hub/alarms", "device:manage", list_key="items", kind="alarm_state", outside=False),
)
PATH_PARAMS: dict[str, str] = {"rule_id": "alarm_rule"}


def records(session: Session, world: World, inside: dict[str, Any], outside: dict[str, Any]) -> None:
    """A rule and an open alarm inside grid 1 and outside it (grid 2)."""
    for side, grid, n in ((inside, world.grid1, 1), (outside, world.grid2, 2)):
        rule = AlarmRule(
            name=f"矩阵规则{n}",
            device_kind="meter",
            attribute="numValue",
            operator=">",
            threshold=10,
            category_code="event.01.01",
            detail="",
            active=True,
            region_id=grid.id,
            region_path=grid.path,
        )
        device = Device(
            code=f"MATRIX-METER-{n}",
            kind="meter",
            name=f"矩阵表{n}",
            region_id=grid.id,
            region_path=grid.path,
            lon=grid.lon,
            lat=grid.lat,
            status="alarm",
            state={"numValue": 50},
        )
        session.add_all([rule, device])
        session.flush()
        state = AlarmState(
            rule_id=rule.id,
            device_id=device.id,
            device_code=device.code,
            region_path=grid.path,
            active=True,
            episode=1,
            alarm_id=f"hub:{rule.id}:{device.id}:1",
            value=50,
            last_value=50,
            since=utcnow(),
            last_at=utcnow(),
        )
        session.add(state)
        session.flush()
        side.update(alarm_rule=rule.id, alarm_state=state.id)
