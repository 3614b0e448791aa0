"""Events neighbourhood commerce publishes on the bus (delivered after the transaction commits)."""

from __future__ import annotations

from typing import ClassVar

from cityos.core.bus import Event, event_type


@event_type
class OrderStepped(Event):
    """An order moved on (placed, accepted, rejected, started, done, cancelled, rated): the
    other side is told. ``side`` is who acted: resident, merchant or system."""

    topic: ClassVar[str] = "commerce.order_stepped"
    order_id: int
    action: str
    side: str
