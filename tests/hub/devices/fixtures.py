"""A world for the hub's device tests: the test city with its categories and processes, the
shipped ingest profiles and alarm rules, a data officer of the city and one of district B, and
the bus handlers subscribed (run them with ``deliver``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from cityos.core import bus
from cityos.core.actor import Actor
from cityos.core.db import utcnow
from cityos.core.runtime import Runtime
from cityos.hub.events import DeviceObserved
from cityos.hub.ingest import service as ingest
from cityos.places.devices.models import Device
from tests.factories import World


@dataclass
class HubWorld:
    w: World
    runtime: Runtime
    officer: Actor  # data_officer of the city
    officer_id: int
    other: Actor  # data_officer of district B
    other_id: int

    def device(
        self,
        session: Session,
        code: str,
        kind: str,
        profile: str,
        *,
        region: Any = None,
        lon: float | None = 104.02,
        lat: float | None = 30.05,
        name: str | None = None,
    ) -> Device:
        device, _key = ingest.register_device(
            session,
            self.officer,
            code=code,
            kind=kind,
            name=name or code,
            region_id=(region or self.w.street).id,
            profile_code=profile,
            lon=lon,
            lat=lat,
        )
        return device

    def observe(
        self,
        session: Session,
        device: Device,
        attrs: dict[str, Any],
        *,
        at: datetime | None = None,
        key: str | None = None,
    ) -> str:
        """Publishes the event ingest publishes for a batch, commits, and runs the handlers and
        what they published (the DeviceAlarm → cases hop)."""
        at = at or utcnow()
        evt = DeviceObserved(
            tenant="default",
            device_code=device.code,
            device_kind=device.kind,
            entity_id=f"urn:ngsi-ld:Test:{device.code}",
            entity_type="Test",
            attrs=attrs,
            observed_at=at.isoformat(),
            lon=device.lon,
            lat=device.lat,
        )
        sent = bus.publish(session, evt, key=key)
        session.commit()
        deliver(self.runtime)
        session.expire_all()
        return sent


def deliver(runtime: Runtime) -> None:
    """Delivers what is pending, and what that published, until nothing is left."""
    for _ in range(5):
        if runtime.bus.deliver_pending() == 0:
            break


def later(minutes: int) -> datetime:
    return utcnow() + timedelta(minutes=minutes) - timedelta(minutes=30)
