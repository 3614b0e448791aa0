"""Events people publishes on the bus."""

from __future__ import annotations

from typing import ClassVar, Literal

from cityos.core.bus import Event, event_type


@event_type
class PersonRegistered(Event):
    """A resident was registered (人口登记)."""

    topic: ClassVar[str] = "people.person_registered"
    person_id: int
    region_id: int


@event_type
class ResidenceChanged(Event):
    """A resident moved into or out of a room."""

    topic: ClassVar[str] = "people.residence_changed"
    person_id: int
    room_id: int
    change: Literal["moved_in", "moved_out"]
