"""Bus handlers and periodic jobs of community.access."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from cityos.community.access import service
from cityos.community.access.events import VisitorArrived
from cityos.community.access.models import EntryPass
from cityos.community.access.visitors import visitor_name
from cityos.core.bus import Bus
from cityos.core.i18n import N_, translate
from cityos.identity.models import Account
from cityos.identity.notify import notify
from cityos.people.events import ResidenceChanged

MSG_ARRIVED = N_("Your visitor has arrived")
MSG_ARRIVED_BODY = N_("{name} entered {place}.")


def on_residence_changed(session: Session, evt: ResidenceChanged) -> None:
    """A resident moved out of a room: the passes they held for it stop."""
    if evt.change == "moved_out":
        service.revoke_moved_out(session, person_id=evt.person_id, room_id=evt.room_id)


def on_visitor_arrived(session: Session, evt: VisitorArrived) -> None:
    """Tell the inviting resident (in the app) that their visitor came in."""
    entry_pass = session.get(EntryPass, evt.pass_id)
    if entry_pass is None:
        return
    body = translate(MSG_ARRIVED_BODY, name=visitor_name(entry_pass, masked=True), place=entry_pass.label)
    for account_id in session.scalars(
        select(Account.id).where(Account.person_id == evt.host_person_id, Account.active.is_(True))
    ):
        notify(session, account_id, title=translate(MSG_ARRIVED), body=body, link="/community/visitors")


def register(bus: Bus) -> None:
    """Subscribes this sub-package's bus handlers (called once per process)."""
    bus.subscribe(ResidenceChanged, "community.access.residence_changed")(on_residence_changed)
    bus.subscribe(VisitorArrived, "community.access.visitor_arrived")(on_visitor_arrived)


def periodic(session: Session) -> None:
    """Every minute in the server: passes and goods slips past their time are marked expired
    (one indexed UPDATE each; nothing to do most minutes)."""
    service.expire(session)
