"""求助: help requests of a campaign. Each becomes a case (工单, category ``help.*``, urgency
"urgent") through ``cases.service.report``, is routed to the building's lead (楼栋长, from the
address book) and must be answered within 2 hours.

The ladder: the case's process reminds after 1 hour (``help_request``: the 求助 state's limit),
which passes the request up to the grid's workers (level 1, "escalated"); at the 2-hour limit the
community's staff are told (level 2); the engine's later steps tell the street (level 3). A step
on the case taken on the cases pages (响应, 已帮助) moves the request too, and the other way round.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cityos.core import bus
from cityos.core.actor import Actor, subtree_clause
from cityos.core.db import utcnow
from cityos.core.errors import Conflict, FieldError, Forbidden, Invalid, NotFound
from cityos.core.i18n import N_, translate
from cityos.emergency.campaigns import groups, kinds, reports
from cityos.emergency.campaigns import service as campaigns
from cityos.emergency.campaigns.events import HelpEscalated, HelpRequested
from cityos.emergency.campaigns.models import HelpRequest, HelpStatus
from cityos.identity.models import Account, AccountRole
from cityos.people.models import Person, PersonTag
from cityos.places.models import Region
from cityos.workflow.calendar import WorkCalendar

LIMIT = timedelta(hours=2)  # 紧急: answered within 2 hours
OPEN = (HelpStatus.OPEN, HelpStatus.ESCALATED)
LADDER = {
    1: (("grid_worker",), ("grid", "estate", "building", "unit")),
    2: (("community_staff",), ("community", "grid")),
    3: (("community_staff", "commander"), ("street", "district")),
}

MSG_CATEGORY = N_("Choose one of the kinds of help this campaign offers.")
MSG_TEXT = N_("Say what you need in 1 to {max_length} characters.")
MSG_ANSWER = N_("Say what will be done in 1 to {max_length} characters.")
MSG_ANSWERED = N_("This help request has already been answered.")
MSG_CLOSED = N_("This help request is closed.")
MSG_NOT_ANSWERED = N_("Answer the help request before closing it.")
MSG_PERSON = N_("Choose the person who needs help.")


def _accounts_at(session: Session, path: str, roles: tuple[str, ...], levels: tuple[str, ...]) -> list[int]:
    """Active accounts with one of ``roles`` whose area is a region above (or at) ``path`` of one of ``levels``."""
    return list(
        session.scalars(
            select(Account.id)
            .join(AccountRole, AccountRole.account_id == Account.id)
            .join(Region, Region.id == Account.scope_region_id)
            .where(
                Account.scope_path.in_(campaigns.ancestor_paths(path)),
                AccountRole.role.in_(roles),
                Region.level.in_(levels),
                Account.active.is_(True),
            )
            .distinct()
            .order_by(Account.id)
        )
    )


def ladder(session: Session, path: str, level: int) -> list[int]:
    """Who hears of a request at ``level`` of the ladder."""
    roles, levels = LADDER[min(max(level, 1), 3)]
    return _accounts_at(session, path, roles, levels)


def grid_workers(session: Session, path: str) -> list[int]:
    return ladder(session, path, 1)


def _building_lead(session: Session, building: Region | None) -> int | None:
    if building is None:
        return None
    from cityos.emergency.addressbook import service as addressbook

    lead = getattr(addressbook, "building_lead", None)
    account = lead(session, building=building) if lead is not None else None
    return int(account.id) if account is not None else None


def _case_actor(session: Session, actor: Actor, case_id: int) -> Actor:
    """The actor a step on the help case is taken as. The case process lets the grid worker
    respond (响应); a building lead or volunteer answering a request of their building takes that
    step in the grid worker's place, under their own account, on this one case."""
    if "grid_worker" in actor.roles or "*" in actor.permissions:
        return actor
    from cityos.cases import service as cases
    from cityos.core.actor import SYSTEM

    case = cases.get_case(session, SYSTEM, case_id)
    return Actor(
        account_id=actor.account_id,
        label=actor.label,
        roles=frozenset({"grid_worker"}),
        permissions=frozenset({"case:read"}),
        scope_path=case.region_path or "/",
    )


def _place_of_case(session: Session, room: Region) -> tuple[float | None, float | None, str]:
    from cityos.people.residences import address

    chain = {r.id: r for r in session.scalars(select(Region).where(Region.id.in_(campaigns.path_ids(room.path))))}
    located = next(
        (chain[i] for i in reversed(campaigns.path_ids(room.path)) if i in chain and chain[i].lon is not None), None
    )
    text = address(session, room)
    if located is None or located.level not in ("building", "unit", "room", "estate"):
        return None, None, text
    return located.lon, located.lat, text


def _open_case(
    session: Session,
    actor: Actor,
    *,
    category: str,
    text: str,
    room: Region,
    resident: bool,
    now: datetime,
    calendar: WorkCalendar | None,
) -> int:
    from cityos.cases import service as cases

    lon, lat, address = _place_of_case(session, room)
    title = f"{translate(kinds.HELP_TITLES.get(category, category))}: {text}"[:128]
    channel = "resident" if resident else "patrol"
    args: dict[str, Any] = {
        "category_code": category,
        "title": title,
        "description": text,
        "channel": channel,
        "address": address or room.name,
        "urgency": "urgent",
        "now": now,
        "calendar": calendar,
    }
    try:
        case = cases.report(session, actor, lon=lon, lat=lat, **args)
    except Invalid as exc:
        if lon is None or not all(d.field in ("lon", "lat") for d in exc.details):
            raise
        case = cases.report(session, actor, **args)  # the point is outside every mapped area: the address stands
    return int(case.id)


def request_help(
    session: Session,
    actor: Actor,
    *,
    campaign_id: int,
    category_code: str,
    text: str,
    person_id: int | None = None,
    now: datetime | None = None,
    calendar: WorkCalendar | None = None,
) -> HelpRequest:
    """A resident asks for help (for themself or their household) or a grid worker files it for
    someone; it becomes an urgent case and is routed to the building lead."""
    now = now or utcnow()
    campaign = campaigns.get_campaign(session, actor, campaign_id)
    actor.require("case:report")
    errors: list[FieldError] = []
    allowed = [str(c) for c in campaign.settings.get("help_categories") or []]
    if category_code not in allowed:
        errors.append(FieldError("category_code", MSG_CATEGORY))
    clean = " ".join((text or "").split())
    if not 1 <= len(clean) <= 500:
        errors.append(FieldError("text", MSG_TEXT, {"max_length": 500}))
    who = person_id or actor.person_id
    person = session.get(Person, who) if who else None
    rooms = campaigns.rooms_of(session, person.id, campaign.scope_path) if person is not None else []
    if person is None or not rooms:
        errors.append(FieldError("person_id", MSG_PERSON))
    if errors or person is None:
        raise Invalid(details=errors)
    campaigns.running(campaign)
    room = rooms[0]
    resident = reports._may_report_for(session, actor, person.id, room) == "own"
    case_id = _open_case(
        session, actor, category=category_code, text=clean, room=room, resident=resident, now=now, calendar=calendar
    )
    building = campaigns.ancestors_at(session, [room.path], "building").get(room.path)
    row = HelpRequest(
        campaign_id=campaign.id,
        person_id=person.id,
        requester_account_id=actor.account_id,
        building_id=building.id if building else None,
        region_path=room.path,
        category_code=category_code,
        text=clean,
        via="resident" if resident else "staff",
        status=HelpStatus.OPEN,
        case_id=case_id,
        assignee_account_id=_building_lead(session, building),
        escalation_level=0,
        created_at=now,
        due_at=now + LIMIT,
    )
    session.add(row)
    session.flush()
    bus.publish(session, HelpRequested(help_id=row.id, campaign_id=campaign.id, region_path=row.region_path))
    return row


# --- reading --------------------------------------------------------------------------------------------------


def is_staff(actor: Actor, path: str) -> bool:
    return any(actor.can(p, region=path) for p in campaigns.READ_PERMS)


def _mine(session: Session, actor: Actor, row: HelpRequest) -> bool:
    if actor.account_id is not None and row.requester_account_id == actor.account_id:
        return True
    return (
        actor.person_id is not None
        and actor.can("campaign:report")
        and bool(campaigns.rooms_of(session, actor.person_id, row.region_path))
    )


def get_help(session: Session, actor: Actor, help_id: int) -> HelpRequest:
    row = session.get(HelpRequest, help_id)
    if row is None:
        raise NotFound()
    campaigns.get_campaign(session, actor, row.campaign_id)
    if not (
        is_staff(actor, row.region_path) or _mine(session, actor, row) or row.assignee_account_id == actor.account_id
    ):
        raise NotFound()
    return row


@dataclass(frozen=True)
class HelpLine:
    help: HelpRequest
    name: str
    place: str
    special: bool
    overdue: bool


def list_help(
    session: Session,
    actor: Actor,
    *,
    campaign_id: int,
    status: str | None = None,
    region_id: int | None = None,
    now: datetime | None = None,
    limit: int = 200,
) -> list[HelpLine]:
    """Staff: the requests of their area (open and overdue first, special groups first).
    Residents: their own and their household's."""
    now = now or utcnow()
    campaign = campaigns.get_campaign(session, actor, campaign_id)
    query = select(HelpRequest).where(HelpRequest.campaign_id == campaign.id)
    if any(actor.can(p) for p in campaigns.READ_PERMS):
        path = campaigns.area(session, actor, campaign, region_id)
        query = query.where(subtree_clause(HelpRequest.region_path, path))
    elif actor.can("campaign:report") and actor.account_id is not None:
        query = query.where(HelpRequest.requester_account_id == actor.account_id)
    else:
        raise Forbidden(params={"permission": "campaign:read"})
    if status:
        query = query.where(HelpRequest.status == status)
    rows = list(session.scalars(query.order_by(HelpRequest.created_at.desc()).limit(limit)))
    people = {r.person_id for r in rows if r.person_id}
    names = dict(session.execute(select(Person.id, Person.name).where(Person.id.in_(people))).all()) if people else {}
    special = (
        set(
            session.scalars(
                select(PersonTag.person_id).where(
                    PersonTag.person_id.in_(people), PersonTag.tag.in_(kinds.SPECIAL_TAGS)
                )
            )
        )
        if people
        else set()
    )
    rooms = {r.id: r for r in session.scalars(select(Region).where(Region.path.in_({r.region_path for r in rows})))}
    from cityos.people.residences import addresses

    places = addresses(session, list(rooms.values()))
    by_path = {r.path: places.get(r.id, "") for r in rooms.values()}
    lines = [
        HelpLine(
            r,
            campaigns.shown_name(actor, str(names.get(r.person_id or 0, ""))) if is_staff(actor, r.region_path) else "",
            by_path.get(r.region_path, ""),
            r.person_id in special,
            r.status in OPEN and r.due_at <= now,
        )
        for r in rows
    ]
    groups.audit_names(session, actor, "campaign.help", campaign.id, sum(1 for x in lines if x.name))
    return sorted(lines, key=lambda x: (x.help.status not in OPEN, not x.overdue, not x.special))


# --- answering ----------------------------------------------------------------------------------------------


def may_answer(actor: Actor, row: HelpRequest) -> None:
    if actor.account_id is not None and row.assignee_account_id == actor.account_id:
        return
    if actor.can("campaign:task", region=row.region_path) or actor.can("campaign:manage", region=row.region_path):
        return
    raise Forbidden(params={"permission": "campaign:task"})


def _case_step(
    session: Session, actor: Actor, row: HelpRequest, action: str, comment: str | None, now: datetime
) -> None:
    if row.case_id is None:
        return
    from cityos.cases import service as cases
    from cityos.workflow import service as workflow

    instance = workflow.instance_for(session, "case", row.case_id)
    wanted = {"take": "requested", "finish": "helping"}[action]
    if instance.closed_at is not None or instance.state != wanted:
        return  # already moved on the cases pages
    try:
        cases.act(
            session,
            _case_actor(session, actor, row.case_id),
            case_id=row.case_id,
            action=action,
            comment=comment,
            now=now,
        )
    except (Conflict, NotFound):
        return


def answer(session: Session, actor: Actor, *, help_id: int, answer: str, now: datetime | None = None) -> HelpRequest:
    """The lead (or a grid worker or volunteer of the building) takes the request (响应)."""
    now = now or utcnow()
    row = get_help(session, actor, help_id)
    may_answer(actor, row)
    clean = " ".join((answer or "").split())
    if not 1 <= len(clean) <= 500:
        raise Invalid(details=[FieldError("answer", MSG_ANSWER, {"max_length": 500})])
    if row.status == HelpStatus.CLOSED:
        raise Conflict(MSG_CLOSED)
    if row.status == HelpStatus.ANSWERED:
        raise Conflict(MSG_ANSWERED)
    row.status = HelpStatus.ANSWERED
    row.answer = clean
    row.answered_at = now
    row.answered_by_account_id = actor.account_id
    session.flush()
    _case_step(session, actor, row, "take", None, now)
    session.flush()
    return row


def close(session: Session, actor: Actor, *, help_id: int, note: str, now: datetime | None = None) -> HelpRequest:
    """The help was given (已帮助)."""
    now = now or utcnow()
    row = get_help(session, actor, help_id)
    may_answer(actor, row)
    clean = " ".join((note or "").split())
    if not 1 <= len(clean) <= 500:
        raise Invalid(details=[FieldError("note", MSG_ANSWER, {"max_length": 500})])
    if row.status == HelpStatus.CLOSED:
        raise Conflict(MSG_CLOSED)
    if row.status != HelpStatus.ANSWERED:
        raise Conflict(MSG_NOT_ANSWERED)
    row.status = HelpStatus.CLOSED
    row.closed_at = now
    session.flush()
    _case_step(session, actor, row, "finish", clean, now)
    session.flush()
    return row


# --- the ladder -------------------------------------------------------------------------------------------------


def escalate(session: Session, row: HelpRequest, level: int, now: datetime) -> bool:
    """Move an unanswered request up to ``level``; False when it is answered or already there."""
    if row.status not in OPEN or level <= (row.escalation_level or 0):
        return False
    row.escalation_level = level
    row.status = HelpStatus.ESCALATED
    row.escalated_at = row.escalated_at or now
    session.flush()
    bus.publish(session, HelpEscalated(help_id=row.id, level=level), key=f"help:{row.id}:{level}")
    return True


def escalate_due(session: Session, *, now: datetime | None = None, limit: int = 500) -> int:
    """Requests past their 2-hour limit and not yet answered go to the community (level 2)."""
    now = now or utcnow()
    rows = session.scalars(
        select(HelpRequest)
        .where(HelpRequest.status.in_(OPEN), HelpRequest.due_at <= now, HelpRequest.escalation_level < 2)
        .order_by(HelpRequest.due_at)
        .limit(limit)
    )
    return sum(escalate(session, row, 2, now) for row in list(rows))


def for_case(session: Session, case_id: int) -> HelpRequest | None:
    return session.scalar(select(HelpRequest).where(HelpRequest.case_id == case_id))
