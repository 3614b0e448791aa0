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


@event_type
class DeviceAlarm(Event):
    """A device reports a problem (a broken street light, an overflowing bin, a manhole cover
    out of place). Published by the data hub; cases turns it into a machine-detected case."""

    topic: ClassVar[str] = "devices.alarm"
    alarm_id: str
    device_id: str
    category_code: str
    lon: float
    lat: float
    detail: str = ""
