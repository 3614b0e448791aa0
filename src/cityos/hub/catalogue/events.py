"""Events of the data catalogue (delivered after the transaction commits; tasks.py notifies)."""

from __future__ import annotations

from typing import ClassVar

from cityos.core.bus import Event, event_type


@event_type
class DataRequestFiled(Event):
    """A department asked for a dataset: the owner department has an approval to give."""

    topic: ClassVar[str] = "catalogue.request_filed"
    request_id: int
    dataset_code: str
    owner_department_id: int
    second: bool = False  # True: the first of two approvals of a restricted dataset was given


@event_type
class DataRequestDecided(Event):
    """The owner department granted or refused a request."""

    topic: ClassVar[str] = "catalogue.request_decided"
    request_id: int
    dataset_code: str
    department_id: int  # the requesting department
    decision: str  # granted | refused


@event_type
class DataGrantEnded(Event):
    """A grant stopped: revoked by the owner or expired."""

    topic: ClassVar[str] = "catalogue.grant_ended"
    grant_id: int
    dataset_code: str
    department_id: int
    owner_department_id: int
    reason: str  # revoked | expired
