"""Events community.access publishes on the bus."""

from __future__ import annotations

from typing import ClassVar

from cityos.core.bus import Event, event_type


@event_type
class VisitorArrived(Event):
    """A visitor pass opened a gate (in): the resident who invited the visitor is told."""

    topic: ClassVar[str] = "community.visitor_arrived"
    pass_id: int
    host_person_id: int
    gate_id: int | None
