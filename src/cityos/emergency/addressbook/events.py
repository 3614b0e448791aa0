"""Events the address book publishes on the bus (delivered after the transaction commits)."""

from __future__ import annotations

from typing import ClassVar

from cityos.core.bus import Event, event_type


@event_type
class BroadcastSent(Event):
    """A broadcast (通知群发) was sent: its receipts and in-app notifications exist; an urgent one
    is also sent by SMS to the recipients whose phone is known."""

    topic: ClassVar[str] = "emergency.broadcast_sent"
    broadcast_id: int
    urgency: str
    recipients: int
    campaign_id: int | None = None
