"""Bus handlers, install steps and the per-minute job of mobility.alerts."""

from __future__ import annotations

from sqlalchemy.orm import Session

from cityos.core.bus import Bus
from cityos.mobility.alerts import reactions, service
from cityos.mobility.events import TrafficAlertRaised, TrafficStatesComputed


def register(bus: Bus) -> None:
    """The bus handlers of this part: the rules run on each stored bin; a raised alert opens a case."""
    bus.subscribe(TrafficStatesComputed, "mobility.alerts.rules")(reactions.on_states_computed)
    bus.subscribe(TrafficAlertRaised, "mobility.alerts.case")(reactions.on_alert_raised)


def install(session: Session) -> None:
    """What ``cityos db upgrade`` installs for this part (idempotent): the shipped rules."""
    service.install_rules(session)


def periodic(session: Session) -> None:
    """Every minute in the server: nothing (the rules run on the monitor's bins, through the bus)."""
