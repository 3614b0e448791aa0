"""通知群发: broadcasts to a region subtree or a group of the address book, with read receipts.

Recipients are resolved when the broadcast is sent, set-based (``INSERT … SELECT`` of receipt
rows, then of in-app notifications), so a community of 6,000 residents is reached in well under a
second:

- to a **region subtree**: the active accounts of everyone living there now (a current residence
  in a room of the subtree, or registered there), plus the staff — accounts holding
  community_staff, grid_worker or volunteer scoped inside the subtree, or scoped to the
  community, grid, estate or building the target lies in (not the street or the district above);
- to a **group**: its members that have an account (an automatic group is brought up to date first).

The sender is never a recipient. Opening a broadcast marks the recipient's receipt read (and its
notification); the sender, and staff reading campaigns over the target region, see the read and
unread counts per building and the list of who has not read (names masked unless pii:read).
Urgent broadcasts go out by SMS too, after the commit, where a phone is known; the sender is
told 30 minutes later how many have still not read one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Integer, String, Text, case, func, insert, literal, or_, select, update
from sqlalchemy.orm import Session, aliased

from cityos.core import bus
from cityos.core.actor import Actor, subtree_clause
from cityos.core.db import UTCDateTime, utcnow
from cityos.core.errors import FieldError, Invalid, NotFound
from cityos.core.i18n import DEFAULT_LOCALE, N_, translate
from cityos.core.pagination import PageParams
from cityos.core.runtime import field_cipher
from cityos.core.settings import get_settings
from cityos.emergency.addressbook import service, views
from cityos.emergency.addressbook.events import BroadcastSent
from cityos.emergency.addressbook.models import Broadcast, BroadcastReceipt, Group, GroupKind, Member, Urgency
from cityos.emergency.addressbook.sync import homes, local_today, path_ids, sync_groups
from cityos.identity.models import Account, AccountRole, Notification
from cityos.identity.notify import notify
from cityos.identity.sms import get_sender
from cityos.people import pii
from cityos.people.models import Person
from cityos.places.models import LEVEL_DEPTH, Region, RegionLevel

SEND = "broadcast:send"
URGENCIES: tuple[str, ...] = tuple(u.value for u in Urgency)
BOXES = ("received", "sent", "area")
TITLE_MAX = 128
BODY_MAX = 4000
SMS_MAX = 300
REMIND_AFTER = timedelta(minutes=30)
# Staff roles reached by a broadcast to a subtree, and the receipt role each becomes.
STAFF_ROLES = {"community_staff": "staff", "grid_worker": "grid_worker", "volunteer": "volunteer"}

URGENCY_TITLES = {Urgency.NORMAL: N_("Normal"), Urgency.URGENT: N_("Urgent")}
MSG_TITLE = N_("Give a title of 1 to {max_length} characters.")
MSG_BODY = N_("Write the message: 1 to {max_length} characters.")
MSG_URGENCY = N_("Must be one of: {expected}.")
MSG_TARGET = N_("Choose one: a place or a group.")
MSG_REGION = N_("Choose a place in your area.")
MSG_GROUP = N_("Choose a group of your area.")
MSG_CAMPAIGN = N_("Must be a whole number.")
MSG_BOX = N_("Must be one of: {expected}.")
MSG_BUILDING = N_("Choose a building of this broadcast.")
MSG_REMINDER = N_("{unread} of {total} have not read “{title}” yet")
MSG_REMINDER_BODY = N_("Open the broadcast to see who, building by building.")


def link(broadcast_id: int) -> str:
    return f"/emergency/broadcasts/{broadcast_id}"


# --- sending ----------------------------------------------------------------------------------------------


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _target(
    session: Session, actor: Actor, target_region_id: Any, group_id: Any, errors: list[FieldError]
) -> tuple[Region | None, Group | None]:
    if (target_region_id in (None, "")) == (group_id in (None, "")):
        errors.append(FieldError("target_region_id", MSG_TARGET))
        return None, None
    if target_region_id not in (None, ""):
        rid = service.as_int(target_region_id)
        region = session.get(Region, rid) if rid is not None else None
        if region is None or not actor.covers(region):
            errors.append(FieldError("target_region_id", MSG_REGION))
            return None, None
        return region, None
    gid = service.as_int(group_id)
    group = session.get(Group, gid) if gid is not None else None
    if group is None or not actor.covers(group.region_path):
        errors.append(FieldError("group_id", MSG_GROUP))
        return None, None
    return None, group


def send(
    session: Session,
    actor: Actor,
    *,
    target_region_id: Any = None,
    group_id: Any = None,
    title: Any,
    body: Any,
    campaign_id: Any = None,
    urgency: Any = Urgency.NORMAL,
) -> Broadcast:
    """Send a broadcast to a region subtree or a group of the actor's area (broadcast:send)."""
    actor.require(SEND)
    errors: list[FieldError] = []
    clean_title = " ".join(title.split()) if isinstance(title, str) else ""
    if not clean_title or len(clean_title) > TITLE_MAX:
        errors.append(FieldError("title", MSG_TITLE, {"max_length": TITLE_MAX}))
    text = _text(body)
    if not text or len(text) > BODY_MAX:
        errors.append(FieldError("body", MSG_BODY, {"max_length": BODY_MAX}))
    if urgency not in URGENCIES:
        errors.append(FieldError("urgency", MSG_URGENCY, {"expected": ", ".join(URGENCIES)}))
    campaign = service.as_int(campaign_id) if campaign_id is not None else None
    if campaign_id is not None and campaign is None:
        errors.append(FieldError("campaign_id", MSG_CAMPAIGN))
    region, group = _target(session, actor, target_region_id, group_id, errors)
    if errors:
        raise Invalid(details=errors)
    target_path = region.path if region is not None else group.region_path  # type: ignore[union-attr]
    actor.require(SEND, region=target_path)
    if group is not None and group.kind != GroupKind.MANUAL:
        place = session.get(Region, group.region_id)
        if place is not None:
            sync_groups(session, region=place)
    now = utcnow()
    row = Broadcast(
        sender_account_id=actor.account_id,
        sender_label=actor.label[:128],
        target_region_id=region.id if region is not None else None,
        group_id=group.id if group is not None else None,
        target_path=target_path,
        target_name=_target_name(session, region, group)[:160],
        title=clean_title,
        body=text,
        urgency=str(urgency),
        campaign_id=campaign,
        recipient_count=0,
        sms_count=0,
        sent_at=now,
    )
    session.add(row)
    session.flush()
    if region is not None:
        _resolve_subtree(session, row, region, actor.account_id)
    else:
        _resolve_group(session, row, group, actor.account_id)  # type: ignore[arg-type]
    row.recipient_count = int(session.scalar(select(func.count()).where(BroadcastReceipt.broadcast_id == row.id)) or 0)
    _notify_all(session, row, now)
    bus.publish(
        session,
        BroadcastSent(broadcast_id=row.id, urgency=row.urgency, recipients=row.recipient_count, campaign_id=campaign),
    )
    session.flush()
    return row


def _target_name(session: Session, region: Region | None, group: Group | None) -> str:
    if group is not None:
        return group.name
    assert region is not None
    if region.level == RegionLevel.BUILDING:
        return building_names(session, [region.id]).get(region.id, region.name)
    return region.name


_RECEIPT_COLUMNS = ["broadcast_id", "account_id", "role", "building_id", "region_path"]


def _placed(broadcast_id: int, accounts: Any, role: Any) -> Any:
    """SELECT (broadcast, account, role, building, path) for a subquery of (aid, rid): the
    building is the region itself, its parent or its grandparent (a room lies in a unit)."""
    place, parent, grand = aliased(Region), aliased(Region), aliased(Region)
    building = case(
        (place.level == RegionLevel.BUILDING.value, place.id),
        (parent.level == RegionLevel.BUILDING.value, parent.id),
        (grand.level == RegionLevel.BUILDING.value, grand.id),
        else_=None,
    )
    return (
        select(literal(broadcast_id, Integer), accounts.c.aid, role, building, place.path)
        .select_from(accounts)
        .join(place, place.id == accounts.c.rid)
        .outerjoin(parent, parent.id == place.parent_id)
        .outerjoin(grand, grand.id == parent.parent_id)
    )


def _resolve_subtree(session: Session, row: Broadcast, region: Region, sender_id: int | None) -> None:
    today = local_today()
    not_sender = [Account.id != sender_id] if sender_id is not None else []
    # Staff first (a staff member living there is reached as staff): those inside the subtree,
    # and those of the community, grid, estate … the target lies in.
    ancestors = path_ids(region.path)[:-1]
    near = list(
        session.scalars(
            select(Region.path).where(Region.id.in_(ancestors), Region.depth >= LEVEL_DEPTH[RegionLevel.COMMUNITY])
        )
    )
    roles = (
        select(AccountRole.account_id.label("aid"), func.min(AccountRole.role).label("role"))
        .where(AccountRole.role.in_(list(STAFF_ROLES)))
        .group_by(AccountRole.account_id)
        .subquery()
    )
    staff = (
        select(Account.id.label("aid"), Account.scope_region_id.label("rid"), roles.c.role.label("role"))
        .join(roles, roles.c.aid == Account.id)
        .where(
            Account.active.is_(True),
            or_(subtree_clause(Account.scope_path, region.path), Account.scope_path.in_(near)),
            *not_sender,
        )
        .subquery()
    )
    role = case(*((staff.c.role == k, v) for k, v in STAFF_ROLES.items()), else_="staff")
    session.execute(insert(BroadcastReceipt).from_select(_RECEIPT_COLUMNS, _placed(row.id, staff, role)))
    # Then everyone living there now.
    home = homes(region.path, today)
    already = select(BroadcastReceipt.account_id).where(BroadcastReceipt.broadcast_id == row.id)
    residents = (
        select(Account.id.label("aid"), func.min(home.c.rid).label("rid"))
        .join(home, home.c.pid == Account.person_id)
        .where(Account.active.is_(True), Account.id.not_in(already), *not_sender)
        .group_by(Account.id)
        .subquery()
    )
    session.execute(
        insert(BroadcastReceipt).from_select(_RECEIPT_COLUMNS, _placed(row.id, residents, literal("resident", String)))
    )


def _resolve_group(session: Session, row: Broadcast, group: Group, sender_id: int | None) -> None:
    not_sender = [Member.account_id != sender_id] if sender_id is not None else []
    chosen = (
        select(
            literal(row.id, Integer),
            Member.account_id,
            func.min(Member.role),
            func.min(Member.building_id),
            func.min(Member.region_path),
        )
        .join(Account, Account.id == Member.account_id)
        .where(Member.group_id == group.id, Account.active.is_(True), *not_sender)
        .group_by(Member.account_id)
    )
    session.execute(insert(BroadcastReceipt).from_select(_RECEIPT_COLUMNS, chosen))


def _notify_all(session: Session, row: Broadcast, now: datetime) -> None:
    """One in-app notification per receipt, in one statement."""
    values = select(
        BroadcastReceipt.account_id,
        literal(row.title[:128], String),
        literal(row.body, Text),
        literal(link(row.id), String),
        literal("app", String),
        literal(now, UTCDateTime()),
    ).where(BroadcastReceipt.broadcast_id == row.id)
    session.execute(
        insert(Notification).from_select(["account_id", "title", "body", "link", "channels", "created_at"], values)
    )


def send_sms(session: Session, broadcast_id: int) -> int:
    """Text an urgent broadcast to its recipients whose phone is known (once per number);
    returns how many messages went out. Runs after the commit (bus handler)."""
    row = session.get(Broadcast, broadcast_id)
    if row is None or row.urgency != Urgency.URGENT:
        return 0
    rows = session.execute(
        select(BroadcastReceipt.account_id, Person.phone_enc)
        .join(Account, Account.id == BroadcastReceipt.account_id)
        .join(Person, Person.id == Account.person_id)
        .where(BroadcastReceipt.broadcast_id == row.id, Person.phone_enc.is_not(None))
        .order_by(BroadcastReceipt.id)
    ).all()
    sender = get_sender(get_settings().sms_sender)
    cipher = field_cipher()
    message = f"{row.title} {row.body}".strip()[:SMS_MAX]
    phones: set[str] = set()
    reached: list[int] = []
    for account_id, enc in rows:
        phone = cipher.decrypt(str(enc), context=pii.PHONE_CONTEXT)
        if phone in phones:
            continue
        phones.add(phone)
        sender.send(session, phone, message)
        reached.append(int(account_id))
    for i in range(0, len(reached), 500):
        session.execute(
            update(Notification)
            .where(Notification.link == link(row.id), Notification.account_id.in_(reached[i : i + 500]))
            .values(channels="app,sms")
        )
    row.sms_count = len(phones)
    session.flush()
    return len(phones)


# --- reading ----------------------------------------------------------------------------------------------


def can_see_receipts(actor: Actor, row: Broadcast) -> bool:
    """The sender, and whoever reads campaigns over the target region, see the receipts."""
    if actor.account_id is not None and row.sender_account_id == actor.account_id:
        return True
    return actor.can("campaign:read", region=row.target_path)


def _receipt(session: Session, actor: Actor, broadcast_id: int) -> BroadcastReceipt | None:
    if actor.account_id is None:
        return None
    return session.scalar(
        select(BroadcastReceipt).where(
            BroadcastReceipt.broadcast_id == broadcast_id, BroadcastReceipt.account_id == actor.account_id
        )
    )


@dataclass(frozen=True)
class BuildingReceipts:
    building_id: int | None  # None: staff and others outside any building
    name: str
    recipients: int
    read: int

    @property
    def unread(self) -> int:
        return self.recipients - self.read

    @property
    def rate(self) -> float:
        return self.read / self.recipients if self.recipients else 0.0


@dataclass(frozen=True)
class Summary:
    recipients: int
    read: int
    buildings: list[BuildingReceipts]

    @property
    def unread(self) -> int:
        return self.recipients - self.read

    @property
    def rate(self) -> float:
        return self.read / self.recipients if self.recipients else 0.0


@dataclass(frozen=True)
class Opened:
    broadcast: Broadcast
    receipt: BroadcastReceipt | None  # the actor's own, when a recipient
    summary: Summary | None  # for the sender and staff over the target


def building_names(session: Session, building_ids: list[int]) -> dict[int, str]:
    """``阳光小区 1栋``: a building with its estate's name."""
    if not building_ids:
        return {}
    estate = aliased(Region)
    rows = session.execute(
        select(Region.id, Region.name, estate.name, estate.level)
        .outerjoin(estate, estate.id == Region.parent_id)
        .where(Region.id.in_(building_ids))
    ).all()
    return {
        int(rid): f"{ename} {name}" if ename and elevel == RegionLevel.ESTATE else str(name)
        for rid, name, ename, elevel in rows
    }


def summary(session: Session, row: Broadcast) -> Summary:
    counts = session.execute(
        select(BroadcastReceipt.building_id, func.count(), func.count(BroadcastReceipt.read_at))
        .where(BroadcastReceipt.broadcast_id == row.id)
        .group_by(BroadcastReceipt.building_id)
    ).all()
    names = building_names(session, [int(b) for b, _, _ in counts if b is not None])
    others = translate("Staff and others")
    buildings = [
        BuildingReceipts(
            int(b) if b is not None else None, names.get(int(b), "") if b is not None else others, int(n), int(r)
        )
        for b, n, r in counts
    ]
    buildings.sort(key=lambda x: (x.building_id is None, x.name, x.building_id or 0))
    return Summary(sum(b.recipients for b in buildings), sum(b.read for b in buildings), buildings)


def open_broadcast(session: Session, actor: Actor, *, broadcast_id: int, now: datetime | None = None) -> Opened:
    """A broadcast as the actor may see it. Opening it as a recipient is the read receipt (and
    reads its notification); the sender and staff over the target also get the counts."""
    row = session.get(Broadcast, broadcast_id)
    if row is None:
        raise NotFound()
    receipt = _receipt(session, actor, row.id)
    staff = can_see_receipts(actor, row)
    if receipt is None and not staff:
        raise NotFound()
    if receipt is not None and receipt.read_at is None:
        moment = now or utcnow()
        receipt.read_at = moment
        session.execute(
            update(Notification)
            .where(
                Notification.account_id == actor.account_id,
                Notification.link == link(row.id),
                Notification.read_at.is_(None),
            )
            .values(read_at=moment)
        )
        session.flush()
    return Opened(row, receipt, summary(session, row) if staff else None)


@dataclass
class UnreadPage:
    items: list[views.PersonView]
    total: int
    unmasked: bool


def unread(
    session: Session, actor: Actor, *, broadcast_id: int, building_id: Any = None, params: PageParams
) -> UnreadPage:
    """Who has not read the broadcast yet (all, or of one building; ``0`` for staff and others),
    by building and room, for the sender and staff over the target."""
    row = session.get(Broadcast, broadcast_id)
    if row is None or not can_see_receipts(actor, row):
        raise NotFound()
    where = [BroadcastReceipt.broadcast_id == row.id, BroadcastReceipt.read_at.is_(None)]
    if building_id not in (None, ""):
        bid = service.as_int(building_id)
        if bid is None:
            raise Invalid(details=[FieldError("building_id", MSG_BUILDING)])
        where.append(BroadcastReceipt.building_id.is_(None) if bid == 0 else BroadcastReceipt.building_id == bid)
    total = int(session.scalar(select(func.count()).select_from(BroadcastReceipt).where(*where)) or 0)
    rows = session.execute(
        select(BroadcastReceipt.role, BroadcastReceipt.account_id, BroadcastReceipt.region_path)
        .where(*where)
        .order_by(BroadcastReceipt.building_id, BroadcastReceipt.region_path, BroadcastReceipt.id)
        .limit(params.size)
        .offset(params.offset)
    ).all()
    entries = [views.Entry(role=r, account_id=a, person_id=None, region_path=p) for r, a, p in rows]
    shown, unmasked = views.people(session, actor, entries, region_path=row.target_path, subject=("broadcast", row.id))
    return UnreadPage(shown, total, unmasked)


@dataclass
class BroadcastList:
    box: str
    items: list[Broadcast]
    total: int
    read_counts: dict[int, int]
    my_reads: dict[int, datetime | None]  # broadcast id -> when the actor read it (received box)


def list_broadcasts(session: Session, actor: Actor, *, box: Any = "received", params: PageParams) -> BroadcastList:
    """``received``: what reached the actor; ``sent``: what the actor sent; ``area``: every
    broadcast to a place of the actor's area (campaign:read)."""
    if box not in BOXES:
        raise Invalid(details=[FieldError("box", MSG_BOX, {"expected": ", ".join(BOXES)})])
    if box == "area":
        actor.require("campaign:read")
        query = select(Broadcast).where(subtree_clause(Broadcast.target_path, actor.scope_path))
    elif actor.account_id is None:
        return BroadcastList(str(box), [], 0, {}, {})
    elif box == "sent":
        query = select(Broadcast).where(Broadcast.sender_account_id == actor.account_id)
    else:
        query = (
            select(Broadcast)
            .join(BroadcastReceipt, BroadcastReceipt.broadcast_id == Broadcast.id)
            .where(BroadcastReceipt.account_id == actor.account_id)
        )
    total = int(session.scalar(select(func.count()).select_from(query.subquery())) or 0)
    items = list(session.scalars(query.order_by(Broadcast.id.desc()).limit(params.size).offset(params.offset)))
    ids = [b.id for b in items]
    reads: dict[int, int] = {}
    mine: dict[int, datetime | None] = {}
    if ids:
        reads = {
            int(b): int(n)
            for b, n in session.execute(
                select(BroadcastReceipt.broadcast_id, func.count(BroadcastReceipt.read_at))
                .where(BroadcastReceipt.broadcast_id.in_(ids))
                .group_by(BroadcastReceipt.broadcast_id)
            )
        }
        if actor.account_id is not None:
            mine = {
                int(b): r
                for b, r in session.execute(
                    select(BroadcastReceipt.broadcast_id, BroadcastReceipt.read_at).where(
                        BroadcastReceipt.broadcast_id.in_(ids), BroadcastReceipt.account_id == actor.account_id
                    )
                )
            }
    return BroadcastList(str(box), items, total, reads, mine)


# --- the send form's choices -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Choice:
    value: str  # "region:<id>" or "group:<id>"
    label: str


def target_choices(session: Session, actor: Actor, *, base: Region, limit: int = 400) -> list[Choice]:
    """The places of ``base``'s subtree down to buildings, in tree order, then its groups."""
    if not actor.covers(base):
        return []
    places = session.execute(
        select(Region.id, Region.name, Region.depth)
        .where(subtree_clause(Region.path, base.path), Region.depth <= LEVEL_DEPTH[RegionLevel.BUILDING])
        .order_by(Region.path)
        .limit(limit)
    ).all()
    out = [Choice(f"region:{rid}", "· " * max(0, int(depth) - base.depth) + str(name)) for rid, name, depth in places]
    groups = session.execute(
        select(Group.id, Group.name, Group.kind)
        .where(subtree_clause(Group.region_path, base.path))
        .order_by(Group.kind.desc(), Group.region_path, Group.name)
        .limit(limit)
    ).all()
    out.extend(
        Choice(f"group:{gid}", f"{translate(service.KIND_TITLES[kind])}: {name}")  # type: ignore[index]
        for gid, name, kind in groups
    )
    return out


# --- reminders (every minute, from tasks.periodic) ------------------------------------------------------------


def remind_unread(session: Session, *, now: datetime | None = None) -> int:
    """Tell the sender of each urgent broadcast sent 30 minutes ago how many have not read it
    (once per broadcast, within a day of sending); returns how many were told."""
    moment = now or utcnow()
    due = session.scalars(
        select(Broadcast)
        .where(
            Broadcast.urgency == Urgency.URGENT,
            Broadcast.reminded_at.is_(None),
            Broadcast.sent_at <= moment - REMIND_AFTER,
            Broadcast.sent_at >= moment - timedelta(days=1),
        )
        .order_by(Broadcast.id)
        .limit(100)
    ).all()
    told = 0
    for row in due:
        row.reminded_at = moment
        left = int(
            session.scalar(
                select(func.count()).where(BroadcastReceipt.broadcast_id == row.id, BroadcastReceipt.read_at.is_(None))
            )
            or 0
        )
        sender = session.get(Account, row.sender_account_id) if row.sender_account_id is not None else None
        if left and sender is not None:
            locale = sender.locale or DEFAULT_LOCALE
            notify(
                session,
                sender.id,
                title=translate(MSG_REMINDER, locale, unread=left, total=row.recipient_count, title=row.title),
                body=translate(MSG_REMINDER_BODY, locale),
                link=link(row.id),
            )
            told += 1
    session.flush()
    return told
