"""Bus handlers and periodic jobs of emergency.addressbook: urgent broadcasts go out by SMS after
the commit that sent them; their senders hear, half an hour later, how many have not read them."""

from __future__ import annotations

from sqlalchemy.orm import Session

from cityos.core.bus import Bus
from cityos.emergency.addressbook import broadcasts
from cityos.emergency.addressbook.events import BroadcastSent


def on_broadcast_sent(session: Session, evt: BroadcastSent) -> None:
    if evt.urgency == "urgent":
        broadcasts.send_sms(session, evt.broadcast_id)


def register(bus: Bus) -> None:
    """Subscribes this sub-package's bus handlers (called once per process)."""
    bus.subscribe(BroadcastSent, "emergency.addressbook.sms")(on_broadcast_sent)


def periodic(session: Session) -> None:
    """Every minute: reminders for urgent broadcasts still unread after 30 minutes (one indexed
    query when there are none)."""
    broadcasts.remind_unread(session)
