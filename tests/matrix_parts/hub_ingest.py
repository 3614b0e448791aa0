"""Permission-matrix entries of hub.ingest (see tests/matrix_parts/base.py).

The "inside" hub device is a waste-container sensor in grid 1, the "outside" one in grid 2;
device:manage (data officers, administrators) registers, lists, reads and re-keys them within
their area. The device routes under /device-api/v1 authenticate with a device key, not a role,
and are tested in tests/hub/ingest."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from cityos.core.actor import SYSTEM
from tests.factories import World
from tests.matrix_parts.base import Case

CASES: tuple[Case, ...] = (
    Case(
        "POST",
        "/api/v1/hub/devices",
        "device:manage",
        body=lambda i: {
            "code": "matrix-new-bin",
            "kind": "bin",
            "name": "矩阵垃圾桶",
            "region_id": i["grid"],
            "profile_code": "waste-container",
        },
    ),
    Case("GET", "/api/v1/hub/devices", "device:manage", list_key="items", kind="hub_device", outside=False),
    Case("GET", "/api/v1/hub/devices/{hub_device_id}", "device:manage"),
    Case("POST", "/api/v1/hub/devices/{hub_device_id}/key", "device:manage"),
    Case("GET", "/api/v1/hub/profiles", "device:manage", outside=False),
    Case("GET", "/api/v1/hub/ingest/stats", "device:manage", outside=False),
)
PATH_PARAMS: dict[str, str] = {"hub_device_id": "hub_device"}


def records(session: Session, world: World, inside: dict[str, Any], outside: dict[str, Any]) -> None:
    """A hub device in grid 1 (inside) and one in grid 2 (outside)."""
    from cityos.hub.ingest import profiles, service

    profiles.install(session)
    for side, grid, code in ((inside, world.grid1, "matrix-bin-1"), (outside, world.grid2, "matrix-bin-2")):
        device, _ = service.register_device(
            session, SYSTEM, code=code, kind="bin", name=code, region_id=grid.id, profile_code="waste-container"
        )
        side["hub_device"] = device.id
