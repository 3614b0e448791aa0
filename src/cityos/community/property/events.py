"""Events community.property publishes on the bus; its own handlers (tasks.py) tell residents,
after the transaction that caused them has committed."""

from __future__ import annotations

from typing import ClassVar

from cityos.core.bus import Event, event_type


@event_type
class ParcelDeposited(Event):
    """A courier put a parcel in a locker: its recipient gets the pickup code (app + SMS)."""

    topic: ClassVar[str] = "property.parcel_deposited"
    parcel_id: int


@event_type
class ParcelOverdue(Event):
    """A parcel waited 24 hours (``stage`` remind) or 72 hours and goes back (``stage`` returned)."""

    topic: ClassVar[str] = "property.parcel_overdue"
    parcel_id: int
    stage: str


@event_type
class BillOverdue(Event):
    """An unpaid bill is past its due date (at most one reminder per bill per 7 days)."""

    topic: ClassVar[str] = "property.bill_overdue"
    bill_id: int


@event_type
class PaymentSettled(Event):
    """A gateway's verified notice settled a payment (paid, declined, failed or duplicate)."""

    topic: ClassVar[str] = "property.payment_settled"
    payment_id: int
    status: str
