"""Bus handlers, install steps and periodic jobs of the hub's device part: the reactions to
device readings (community feeds, alarm rules) and the shipped alarm rules."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from cityos.core.bus import Bus
from cityos.core.runtime import Runtime
from cityos.hub.devices import reactions, service
from cityos.hub.events import DeviceObserved


def register(bus: Bus) -> None:
    """Subscribes this part's bus handlers (once per runtime)."""
    bus.subscribe(DeviceObserved, "hub.devices.community")(reactions.feed_community)
    bus.subscribe(DeviceObserved, "hub.devices.alarms")(reactions.apply_rules)


def install(session: Session) -> None:
    """What ``cityos db upgrade`` installs for this part (idempotent): the shipped alarm rules."""
    service.install_rules(session)


def periodic(session: Session) -> None:
    """Run by the server every minute: nothing (alarms move with the readings)."""


def start(runtime: Runtime) -> Callable[[], None] | None:
    """No background workers: the reactions run as bus handlers."""
    return None
