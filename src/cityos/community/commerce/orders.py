"""Orders of neighbourhood services (下单): the resident orders an offer for one of their homes,
the shop accepts or declines, starts and finishes; the resident may cancel until the shop has
accepted, follows every step on the timeline and rates a done order (once, changed once).

The contact phone is stored encrypted and shown masked, except to the shop from acceptance until
the service is done (audited). Every step publishes ``OrderStepped``; ``tasks`` tells the other
side. A placed order no shop answers within 24 hours is cancelled by the per-minute job.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Select, false, func, or_, select
from sqlalchemy.orm import Session

from cityos.cases import ratings
from cityos.cases.models import Rating
from cityos.community.commerce import hours
from cityos.community.commerce.events import OrderStepped
from cityos.community.commerce.models import Offer, Order, OrderEvent, OrderStatus
from cityos.community.commerce.service import (
    distance_m,
    get_offer,
    is_operator,
    point_of,
    sells_for,
)
from cityos.core import audit, bus
from cityos.core.actor import Actor, subtree_clause
from cityos.core.db import utcnow
from cityos.core.errors import Conflict, FieldError, Forbidden, Invalid, NotFound
from cityos.core.i18n import N_, translate
from cityos.core.runtime import field_cipher
from cityos.people.models import Person, Residence
from cityos.people.pii import mask_phone
from cityos.people.validation import normalise_phone, phone_error
from cityos.places.models import LEVEL_DEPTH, Region, RegionLevel

STATUS_TITLES: dict[str, str] = {
    OrderStatus.PLACED: N_("Waiting for the shop"),
    OrderStatus.ACCEPTED: N_("Accepted by the shop"),
    OrderStatus.IN_SERVICE: N_("In service"),
    OrderStatus.DONE: N_("Service done"),
    OrderStatus.REJECTED: N_("Declined by the shop"),
    OrderStatus.CANCELLED: N_("Order cancelled"),
}

ACTION_TITLES: dict[str, str] = {
    "placed": N_("Ordered"),
    "accepted": N_("Accepted by the shop"),
    "rejected": N_("Declined by the shop"),
    "started": N_("Service started"),
    "done": N_("Service done"),
    "cancelled": N_("Order cancelled"),
    "expired": N_("Cancelled: the shop did not answer in time"),
    "rated": N_("Rated the service"),
    "rerated": N_("Rating changed"),
}

PREFERRED_WITHIN = timedelta(days=30)
PREFERRED_SLACK = timedelta(minutes=5)
ANSWER_WITHIN = timedelta(hours=24)  # a placed order nobody answers is cancelled after this
PHONE_CONTEXT = "commerce.order.phone"

MSG_NOT_RESIDENT = N_("Only residents with a resident record can order services.")
MSG_ROOM = N_("Choose one of your homes.")
MSG_ADDRESS = N_("Enter the address where the service is needed (4 to 255 characters).")
MSG_OUT_OF_REACH = N_("This shop serves within {radius} km; your address is {distance} km away.")
MSG_PHONE_NEEDED = N_("Enter a mobile number the shop can call.")
MSG_PREFERRED_TYPE = N_("Must be a date and time.")
MSG_PREFERRED_PAST = N_("Choose a time from now on.")
MSG_PREFERRED_FAR = N_("Choose a time within the next 30 days.")
MSG_PREFERRED_CLOSED = N_("The shop is open {hours}; choose a time when it is open.")
MSG_NOTE = N_("The note can be at most 500 characters.")
MSG_REASON = N_("Tell the resident why (2 to 500 characters).")
MSG_REASON_LONG = N_("The reason can be at most 500 characters.")
MSG_OFFER_GONE = N_("This service is no longer offered.")
MSG_STEP = N_("This cannot be done now: the order is '{status}'.")
MSG_CANCEL_LATE = N_("The shop has already accepted this order; call the shop to cancel it.")
MSG_RATE_EARLY = N_("An order can be rated once it is done.")
MSG_RATE_TWICE = N_("You have already changed your rating of this order once.")
MSG_ACTION = N_("Unknown step: {action}.")


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


# --- the resident's homes ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Home:
    """One of the resident's current rooms, with the address people write and its map point."""

    room_id: int
    address: str
    relation: str
    point: tuple[float, float] | None


def homes(session: Session, actor: Actor, *, today: date | None = None) -> list[Home]:
    """The actor's current residences (owners' rooms first), for pre-filling the address."""
    if actor.person_id is None:
        return []
    day = today or utcnow().date()
    rows = session.execute(
        select(Residence.room_id, Residence.relation, Region)
        .join(Region, Region.id == Residence.room_id)
        .where(
            Residence.person_id == actor.person_id,
            Residence.since <= day,
            or_(Residence.until.is_(None), Residence.until >= day),
        )
        .order_by((Residence.relation != "owner"), Residence.id)
    ).all()
    out = []
    for room_id, relation, room in rows:
        out.append(Home(int(room_id), address_of(session, room), str(relation), point_of(session, room)))
    return out


def address_of(session: Session, room: Region) -> str:
    """阳光小区1栋1单元101: the names from the estate down (or the three levels above a room
    that is not in an estate)."""
    ids = [int(p) for p in room.path.strip("/").split("/") if p]
    chain = {r.id: r for r in session.scalars(select(Region).where(Region.id.in_(ids)))}
    regions = [chain[i] for i in ids if i in chain]
    estate_depth = LEVEL_DEPTH[RegionLevel.ESTATE]
    from_estate = [r for r in regions if r.depth >= estate_depth]
    return "".join(r.name for r in (from_estate or regions[-4:]))


def home_point(session: Session, actor: Actor) -> tuple[float, float] | None:
    """Where the resident lives (for 'near me' without the phone's location)."""
    for home in homes(session, actor):
        if home.point is not None:
            return home.point
    return None


# --- orders -----------------------------------------------------------------------------------------------------


def order_query(actor: Actor) -> Select[Order]:
    """Orders the actor may see: its own (resident), its shop's (merchant), its area's (operator)."""
    conditions = []
    if actor.account_id is not None:
        conditions.append(Order.account_id == actor.account_id)
    if actor.person_id is not None and actor.can("commerce:order"):
        conditions.append(Order.person_id == actor.person_id)
    if actor.organisation_id is not None and actor.can("commerce:sell"):
        conditions.append(Order.organisation_id == actor.organisation_id)
    if is_operator(actor):
        conditions.append(subtree_clause(Order.region_path, actor.scope_path))
    if not conditions:
        return select(Order).where(false())
    return select(Order).where(or_(*conditions))


def get_order(session: Session, actor: Actor, order_id: int) -> Order:
    if not (actor.can("commerce:order") or actor.can("commerce:sell")):
        raise Forbidden(params={"permission": "commerce:order"})
    order = session.scalar(order_query(actor).where(Order.id == order_id))
    if order is None:
        raise NotFound()
    return order


def list_orders(
    session: Session,
    actor: Actor,
    *,
    side: str = "mine",
    statuses: tuple[str, ...] = (),
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[Order], int]:
    """``side`` mine: the actor's own orders (a resident's); shop: the actor's shop's (a
    merchant's; an operator's: its area's). Newest first, with the total."""
    if side == "shop":
        actor.require("commerce:sell")
        if actor.organisation_id is not None:
            query = select(Order).where(Order.organisation_id == actor.organisation_id)
        elif is_operator(actor):
            query = select(Order).where(subtree_clause(Order.region_path, actor.scope_path))
        else:
            return [], 0
    else:
        if not (actor.can("commerce:order") or actor.can("commerce:sell")):
            raise Forbidden(params={"permission": "commerce:order"})
        query = order_query(actor) if is_operator(actor) else _own_orders(actor)
    if statuses:
        query = query.where(Order.status.in_(statuses))
    total = int(session.scalar(select(func.count()).select_from(query.subquery())) or 0)
    rows = list(session.scalars(query.order_by(Order.created_at.desc(), Order.id.desc()).limit(limit).offset(offset)))
    return rows, total


def _own_orders(actor: Actor) -> Select[Order]:
    conditions = []
    if actor.account_id is not None:
        conditions.append(Order.account_id == actor.account_id)
    if actor.person_id is not None:
        conditions.append(Order.person_id == actor.person_id)
    if not conditions:
        return select(Order).where(false())
    return select(Order).where(or_(*conditions))


def timeline(session: Session, actor: Actor, order_id: int) -> list[OrderEvent]:
    order = get_order(session, actor, order_id)
    return events_of(session, order)


def events_of(session: Session, order: Order) -> list[OrderEvent]:
    return list(session.scalars(select(OrderEvent).where(OrderEvent.order_id == order.id).order_by(OrderEvent.id)))


def _step(
    session: Session, actor: Actor | None, order: Order, action: str, *, side: str, note: str = "", at: datetime
) -> None:
    session.add(
        OrderEvent(
            order_id=order.id,
            action=action,
            status=order.status,
            by_account_id=actor.account_id if actor is not None else None,
            by_side=side,
            note=note,
            at=at,
        )
    )
    order.updated_at = at
    session.flush()
    bus.publish(session, OrderStepped(order_id=order.id, action=action, side=side))


def _phone_errors(session: Session, actor: Actor, phone: str | None) -> tuple[str | None, list[FieldError]]:
    if phone is not None and _text(phone):
        number = normalise_phone(phone)
        problem = phone_error(number)
        return (None, [FieldError("phone", problem)]) if problem else (number, [])
    person = session.get(Person, actor.person_id) if actor.person_id is not None else None
    if person is not None and person.phone_enc:
        return field_cipher().decrypt(person.phone_enc, context="person.phone"), []
    return None, [FieldError("phone", MSG_PHONE_NEEDED)]


def registered_phone_masked(session: Session, actor: Actor) -> str | None:
    """The resident's phone on record, masked (the order form says it is used when left blank)."""
    person = session.get(Person, actor.person_id) if actor.person_id is not None else None
    if person is None or not person.phone_enc:
        return None
    return mask_phone(field_cipher().decrypt(person.phone_enc, context="person.phone"))


def _preferred_errors(offer: Offer, preferred_at: Any, now: datetime) -> list[FieldError]:
    if preferred_at is None:
        return []
    if not isinstance(preferred_at, datetime) or preferred_at.tzinfo is None:
        return [FieldError("preferred_at", MSG_PREFERRED_TYPE)]
    if preferred_at < now - PREFERRED_SLACK:
        return [FieldError("preferred_at", MSG_PREFERRED_PAST)]
    if preferred_at > now + PREFERRED_WITHIN:
        return [FieldError("preferred_at", MSG_PREFERRED_FAR)]
    if not hours.is_open(offer.opening_hours, preferred_at):
        return [FieldError("preferred_at", MSG_PREFERRED_CLOSED, {"hours": offer.opening_hours})]
    return []


def place_order(
    session: Session,
    actor: Actor,
    *,
    offer_id: int,
    room_id: int | None = None,
    address: str | None = None,
    phone: str | None = None,
    preferred_at: datetime | None = None,
    note: str | None = None,
    now: datetime | None = None,
) -> Order:
    """下单: the address defaults to the resident's home (owner's room first), the phone to the
    one on record. The home must be within the offer's radius; the preferred time (optional:
    as soon as possible) within the next 30 days and the shop's hours."""
    actor.require("commerce:order")
    if actor.person_id is None:
        raise Invalid(details=[FieldError("account", MSG_NOT_RESIDENT)])
    moment = now or utcnow()
    offer = get_offer(session, actor, offer_id)
    if not offer.active:
        raise Conflict(MSG_OFFER_GONE)
    errors: list[FieldError] = []
    mine = homes(session, actor)
    home: Home | None = None
    if room_id is not None:
        home = next((h for h in mine if h.room_id == room_id), None)
        if home is None:
            errors.append(FieldError("room_id", MSG_ROOM))
    elif mine:
        home = mine[0]
    text = _text(address)
    if not text and home is not None:
        text = home.address
    if not 4 <= len(text) <= 255:
        errors.append(FieldError("address", MSG_ADDRESS))
    if home is not None and home.point is not None:
        away = distance_m(home.point[0], home.point[1], offer.lon, offer.lat)
        if away > offer.radius_m:
            errors.append(
                FieldError(
                    "address",
                    MSG_OUT_OF_REACH,
                    {"radius": f"{offer.radius_m / 1000:.1f}", "distance": f"{away / 1000:.1f}"},
                )
            )
    number, phone_problems = _phone_errors(session, actor, phone)
    errors.extend(phone_problems)
    errors.extend(_preferred_errors(offer, preferred_at, moment))
    remark = _text(note)
    if len(remark) > 500:
        errors.append(FieldError("note", MSG_NOTE))
    if errors:
        raise Invalid(details=errors)
    room = session.get(Region, home.room_id) if home is not None else None
    order = Order(
        no=uuid.uuid4().hex[:24],
        offer_id=offer.id,
        organisation_id=offer.organisation_id,
        account_id=actor.account_id,
        person_id=actor.person_id,
        title=offer.title,
        category=offer.category,
        price_fen=offer.price_fen,
        unit=offer.unit,
        room_id=room.id if room is not None else None,
        region_path=room.path if room is not None else None,
        address=text,
        preferred_at=preferred_at,
        note=remark,
        phone_enc=field_cipher().encrypt(number, context=PHONE_CONTEXT) if number else None,
        status=OrderStatus.PLACED,
        created_at=moment,
        updated_at=moment,
    )
    session.add(order)
    session.flush()
    order.no = f"SQ{moment.astimezone(hours.zone()):%Y%m%d}{order.id:06d}"
    _step(session, actor, order, "placed", side="resident", note=remark, at=moment)
    return order


# The steps a merchant takes: action -> (from, to, timestamp column).
MERCHANT_STEPS: dict[str, tuple[tuple[str, ...], str, str | None]] = {
    "accept": ((OrderStatus.PLACED,), OrderStatus.ACCEPTED, "accepted_at"),
    "reject": ((OrderStatus.PLACED,), OrderStatus.REJECTED, "closed_at"),
    "start": ((OrderStatus.ACCEPTED,), OrderStatus.IN_SERVICE, "started_at"),
    "done": ((OrderStatus.ACCEPTED, OrderStatus.IN_SERVICE), OrderStatus.DONE, "done_at"),
}
RESIDENT_STEPS = ("cancel",)
ACTIONS = (*MERCHANT_STEPS, *RESIDENT_STEPS)
_DONE_WORD = {"accept": "accepted", "reject": "rejected", "start": "started", "done": "done", "cancel": "cancelled"}


def available_actions(actor: Actor, order: Order) -> list[str]:
    """The steps the actor may take on the order now (buttons)."""
    out: list[str] = []
    if sells_for(actor, order.organisation_id):
        out.extend(a for a, (sources, _to, _col) in MERCHANT_STEPS.items() if order.status in sources)
    if _is_orderer(actor, order) and order.status == OrderStatus.PLACED:
        out.append("cancel")
    return out


def _is_orderer(actor: Actor, order: Order) -> bool:
    if not actor.can("commerce:order"):
        return False
    return (actor.account_id is not None and order.account_id == actor.account_id) or (
        actor.person_id is not None and order.person_id == actor.person_id
    )


def act(
    session: Session, actor: Actor, *, order_id: int, action: str, note: str | None = None, now: datetime | None = None
) -> Order:
    """One step: the shop accepts, rejects (with a reason), starts or finishes; the resident
    cancels while the shop has not accepted. Each step is on the timeline and tells the other side."""
    order = get_order(session, actor, order_id)
    if action not in ACTIONS:
        raise Invalid(details=[FieldError("action", MSG_ACTION, {"action": action[:32]})])
    moment = now or utcnow()
    remark = _text(note)
    if action == "cancel":
        if not _is_orderer(actor, order):
            raise Forbidden(params={"permission": "commerce:order"})
        if len(remark) > 500:
            raise Invalid(details=[FieldError("note", MSG_REASON_LONG)])
        if order.status in (OrderStatus.ACCEPTED, OrderStatus.IN_SERVICE):
            raise Conflict(MSG_CANCEL_LATE)
        if order.status != OrderStatus.PLACED:
            raise Conflict(MSG_STEP, params={"status": _status_word(order.status)})
        order.status, order.closed_at, order.reason = OrderStatus.CANCELLED, moment, remark
        _step(session, actor, order, "cancelled", side="resident", note=remark, at=moment)
        return order
    if not sells_for(actor, order.organisation_id):
        raise Forbidden(params={"permission": "commerce:sell"})
    sources, target, column = MERCHANT_STEPS[action]
    if action == "reject" and not 2 <= len(remark) <= 500:
        raise Invalid(details=[FieldError("note", MSG_REASON)])
    if len(remark) > 500:
        raise Invalid(details=[FieldError("note", MSG_REASON_LONG)])
    if order.status not in sources:
        raise Conflict(MSG_STEP, params={"status": _status_word(order.status)})
    order.status = target
    if column is not None:
        setattr(order, column, moment)
    if action == "done" and order.started_at is None:
        order.started_at = moment
    if action == "reject":
        order.reason = remark
    _step(session, actor, order, _DONE_WORD[action], side="merchant", note=remark, at=moment)
    return order


def _status_word(status: str) -> str:
    return translate(STATUS_TITLES.get(status, status))


def rate(
    session: Session,
    actor: Actor,
    *,
    order_id: int,
    level: int,
    comment: str | None = None,
    now: datetime | None = None,
) -> Order:
    """好差评 of a done order by the resident who ordered it: once, and changed once."""
    order = get_order(session, actor, order_id)
    if not _is_orderer(actor, order):
        raise Forbidden(params={"permission": "commerce:order"})
    if order.status != OrderStatus.DONE:
        raise Conflict(MSG_RATE_EARLY)
    if comment is not None and len(comment.strip()) > 500:
        raise Invalid(details=[FieldError("comment", MSG_REASON_LONG)])
    row = ratings.rate_subject(
        session,
        actor,
        subject_type="order",
        subject_id=order.id,
        level=level,
        comment=comment,
        twice_message=MSG_RATE_TWICE,
    )
    order.rating = row.level
    _step(
        session,
        actor,
        order,
        "rated" if row.revision == 1 else "rerated",
        side="resident",
        note=row.comment or "",
        at=now or utcnow(),
    )
    return order


def rating_of(session: Session, order: Order) -> Rating | None:
    """The order's latest rating row (level, comment, revision), or None."""
    return ratings.latest(session, subject_type="order", subject_id=order.id)


def can_rate(session: Session, actor: Actor, order: Order) -> bool:
    """True when the actor ordered it, it is done, and it has not been rated twice."""
    if not _is_orderer(actor, order) or order.status != OrderStatus.DONE:
        return False
    latest = rating_of(session, order)
    return latest is None or latest.revision < ratings.MAX_REVISIONS


def masked_phone(order: Order) -> str | None:
    """The contact number masked (lists show it so to everyone)."""
    if not order.phone_enc:
        return None
    return mask_phone(field_cipher().decrypt(order.phone_enc, context=PHONE_CONTEXT))


def phone_for(session: Session, actor: Actor, order: Order) -> str | None:
    """The contact number as this actor may see it: in full to the shop from acceptance until
    the service is done (each such read is audited), masked to everyone else and at other times."""
    if not order.phone_enc:
        return None
    number = field_cipher().decrypt(order.phone_enc, context=PHONE_CONTEXT)
    if sells_for(actor, order.organisation_id) and order.status in (OrderStatus.ACCEPTED, OrderStatus.IN_SERVICE):
        audit.record(session, actor, "pii.read", subject_type="commerce_order", subject_id=order.id, fields=["phone"])
        return number
    return mask_phone(number)


def expire_unanswered(session: Session, *, now: datetime | None = None) -> int:
    """Cancel placed orders that no shop answered within 24 hours (the resident is told)."""
    moment = now or utcnow()
    stale = list(
        session.scalars(
            select(Order)
            .where(Order.status == OrderStatus.PLACED, Order.created_at < moment - ANSWER_WITHIN)
            .order_by(Order.id)
            .limit(200)
        )
    )
    for order in stale:
        order.status, order.closed_at = OrderStatus.CANCELLED, moment
        _step(session, None, order, "expired", side="system", at=moment)
    return len(stale)
