"""Events the process engine publishes on the bus."""

from __future__ import annotations

from typing import ClassVar

from cityos.core.bus import Event, event_type


@event_type
class ProcessStateChanged(Event):
    """An instance moved (or ended, ``final``); modules update their subject from it."""

    topic: ClassVar[str] = "workflow.state_changed"
    instance_id: int
    subject_type: str
    subject_id: str
    action: str
    from_state: str
    to_state: str
    final: bool


@event_type
class ProcessEscalated(Event):
    """A time limit passed: remind the handler, tell the supervisor, or move up a level."""

    topic: ClassVar[str] = "workflow.escalated"
    instance_id: int
    subject_type: str
    subject_id: str
    state: str | None  # None: the whole process's limit
    kind: str
    level: int
