"""Events cases publish on the bus."""

from __future__ import annotations

from typing import ClassVar

from cityos.core.bus import Event, event_type


@event_type
class CaseReported(Event):
    topic: ClassVar[str] = "cases.reported"
    case_id: int
    category_code: str
    department_id: int | None


@event_type
class CaseBadlyRated(Event):
    """差评: a rectification is due (callback within 1 working day, rectify within 15)."""

    topic: ClassVar[str] = "cases.badly_rated"
    case_id: int
    level: int
    department_id: int | None
