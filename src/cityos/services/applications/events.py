"""Events applications publish on the bus (delivered after the transaction commits)."""

from __future__ import annotations

from typing import ClassVar

from cityos.core.bus import Event, event_type


@event_type
class ApplicationSubmitted(Event):
    """An application was submitted (or a supplement answered): its departments have work."""

    topic: ClassVar[str] = "applications.submitted"
    application_id: int
    item_code: str
    department_ids: list[int]
    applicant_person_id: int | None = None
    channel: str = "online"
    resubmitted: bool = False


@event_type
class SupplementRequested(Event):
    """一次性告知: the applicant is asked for everything missing at once."""

    topic: ClassVar[str] = "applications.supplement_requested"
    application_id: int
    item_count: int


@event_type
class ApplicationDecided(Event):
    """准予许可 or 不予许可; ``result_credential_id`` is the credential issued as the result."""

    topic: ClassVar[str] = "applications.decided"
    application_id: int
    item_code: str
    decision: str  # approved | rejected
    applicant_person_id: int | None = None
    result_credential_id: int | None = None


@event_type
class ApplicationBadlyRated(Event):
    """差评 (level 1 or 2) of a finished application: its departments are told."""

    topic: ClassVar[str] = "applications.badly_rated"
    application_id: int
    level: int
    department_ids: list[int]
