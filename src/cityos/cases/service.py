"""工单: intake from every channel, automatic routing by category and place, the process steps,
scoped views and 好差评.

Visibility: residents see their own reports; a department sees only the cases dispatched to it;
grid workers, dispatchers and commanders see the cases of their area.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.orm import Session

from cityos.cases.events import CaseBadlyRated, CaseReported
from cityos.cases.models import Case, Category, Channel, Rating, Urgency
from cityos.cases.ratings import BAD_RATING, MSG_RATING_LEVEL, rate_subject
from cityos.cases.ratings import RATING_LEVELS as RATING_LEVELS
from cityos.core import bus
from cityos.core.actor import Actor, subtree_clause
from cityos.core.db import utcnow
from cityos.core.errors import Conflict, FieldError, Forbidden, Invalid, NotFound
from cityos.core.i18n import N_
from cityos.core.pagination import PageParams, fetch_page
from cityos.people.models import Department
from cityos.people.orgs import service as orgs
from cityos.places import index
from cityos.places.models import Region
from cityos.workflow import service as workflow
from cityos.workflow.calendar import WorkCalendar
from cityos.workflow.spec import Limit

URGENCY_LIMITS: dict[str, Limit] = {
    Urgency.URGENT: Limit(amount=2, unit="working_hours"),
    Urgency.HIGH: Limit(amount=24, unit="hours"),
    Urgency.NORMAL: Limit(amount=7, unit="working_days"),
    Urgency.LOW: Limit(amount=15, unit="working_days"),
}
FALLBACK_CATEGORY = "hotline.99.01"  # 其他诉求: a dispatcher decides

MSG_CATEGORY = N_("Choose a category from the list.")
MSG_TITLE = N_("Describe the problem in 1 to {max_length} characters.")
MSG_DESCRIPTION = N_("At most {max_length} characters.")
MSG_PLACE = N_("Give the place: a point on the map or an address.")
MSG_OUTSIDE = N_("This point is outside the city's area.")
MSG_OUTSIDE_SCOPE = N_("This point is outside your area.")
MSG_LON = N_("Must be a longitude between -180 and 180.")
MSG_LAT = N_("Must be a latitude between -90 and 90.")
MSG_URGENCY = N_("Must be one of: {expected}.")
MSG_CHANNEL = N_("Must be one of: {expected}.")
MSG_DEPARTMENT = N_("Choose a department that can take this case.")
MSG_RATING_OPEN = N_("A case can be rated once it is closed.")
MSG_RATING_TWICE = N_("This case has already been rated again; a rating can be changed only once.")
MSG_RATING_WHO = N_("Only the person who reported the case can rate it.")


# --- categories ------------------------------------------------------------------------------------------


def install_categories(session: Session) -> int:
    """Add the shipped category tree (existing codes keep their edited names). Returns how many were added."""
    from cityos.cases.catalogue import walk

    existing = set(session.scalars(select(Category.code)))
    added = 0
    for node, parent, level in walk():
        if node.code in existing:
            continue
        session.add(
            Category(
                code=node.code,
                name=node.name,
                parent_code=parent,
                level=level,
                process_key=node.process_key,
                active=True,
                keywords=node.keywords,
            )
        )
        added += 1
        session.flush()
    return added


def lineage(session: Session, code: str) -> list[Category]:
    """The category and its ancestors, nearest first."""
    out: list[Category] = []
    current = session.get(Category, code)
    while current is not None and len(out) < 5:
        out.append(current)
        current = session.get(Category, current.parent_code) if current.parent_code else None
    return out


def list_categories(session: Session) -> list[Category]:
    return list(session.scalars(select(Category).where(Category.active.is_(True)).order_by(Category.code)))


# --- routing -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    department: Department | None
    category_code: str | None  # the tree level whose responsibility entry matched
    region_path: str | None


def route(session: Session, *, category_code: str, region_path: str | None) -> Route:
    """The department the responsibility list names for this category at this place; a 细类
    without an entry of its own falls back to its 小类 and 大类."""
    if region_path is None:
        return Route(None, None, None)
    for category in lineage(session, category_code):
        department = orgs.responsible_department(session, category=category.code, region_path=region_path)
        if department is not None:
            return Route(department, category.code, region_path)
    return Route(None, None, region_path)


# --- intake ----------------------------------------------------------------------------------------------------


def _place(
    session: Session, actor: Actor, lon: float | None, lat: float | None, errors: list[FieldError]
) -> Region | None:
    if lon is None or lat is None:
        return None
    problems = []
    if not -180 <= lon <= 180:
        problems.append(FieldError("lon", MSG_LON))
    if not -90 <= lat <= 90:
        problems.append(FieldError("lat", MSG_LAT))
    if problems:
        errors.extend(problems)
        return None
    # Exact polygon containment: a report beside a boundary lands on the right side of it.
    region = index.locate(session, lon, lat)
    if region is None:
        errors.append(FieldError("lon", MSG_OUTSIDE))
    return region


def report(
    session: Session,
    actor: Actor,
    *,
    category_code: str,
    title: str,
    channel: str,
    description: str = "",
    lon: float | None = None,
    lat: float | None = None,
    address: str | None = None,
    urgency: str = Urgency.NORMAL,
    machine: bool = False,
    external_ref: str | None = None,
    now: datetime | None = None,
    calendar: WorkCalendar | None = None,
) -> Case:
    """Take in a case from any channel: check it, place it in the region tree, route it, start its process."""
    actor.require("case:report")
    now = now or utcnow()
    errors: list[FieldError] = []
    suggestion = None
    if not category_code and (title or description).strip():
        # Free text only (a 12345 call, a quick report): the classifier proposes the category;
        # below its threshold the case waits in a dispatcher's queue under 其他诉求.
        from cityos.cases import classifier

        suggestion = classifier.current(session).suggest(f"{title} {description}")[0]
        category_code = suggestion.category_code if suggestion.confidence >= classifier.THRESHOLD else FALLBACK_CATEGORY
    category = session.get(Category, category_code) if category_code else None
    if category is None or not category.active or category.level < 2:
        errors.append(FieldError("category_code", MSG_CATEGORY))
    clean_title = " ".join((title or "").split())
    if not clean_title or len(clean_title) > 128:
        errors.append(FieldError("title", MSG_TITLE, {"max_length": 128}))
    if len(description or "") > 4000:
        errors.append(FieldError("description", MSG_DESCRIPTION, {"max_length": 4000}))
    if urgency not in {u.value for u in Urgency}:
        errors.append(FieldError("urgency", MSG_URGENCY, {"expected": ", ".join(u.value for u in Urgency)}))
    if channel not in {c.value for c in Channel}:
        errors.append(FieldError("channel", MSG_CHANNEL, {"expected": ", ".join(c.value for c in Channel)}))
    region = _place(session, actor, lon, lat, errors)
    if region is None and not (address or "").strip() and not any(e.field in ("lon", "lat") for e in errors):
        errors.append(FieldError("lon", MSG_PLACE))
    staff_channel = channel in (Channel.PATROL, Channel.HOTLINE)
    if region is not None and staff_channel and not actor.covers(region):
        errors.append(FieldError("lon", MSG_OUTSIDE_SCOPE))
    if errors or category is None:
        raise Invalid(details=errors)
    process_key = next((c.process_key for c in lineage(session, category.code) if c.process_key), "city_event")
    routed = route(session, category_code=category.code, region_path=region.path if region else None)
    case = Case(
        no="pending",
        category_code=category.code,
        channel=channel,
        urgency=urgency,
        title=clean_title,
        description=(description or "").strip(),
        lon=lon,
        lat=lat,
        address=(address or "").strip()[:255] or None,
        region_id=region.id if region else None,
        region_path=region.path if region else None,
        reporter_account_id=actor.account_id,
        reporter_person_id=actor.person_id,
        reporter_label=actor.label[:128],
        status="new",
        department_id=None,  # set when dispatched: until then the department does not see the case
        routing={
            "department_id": routed.department.id if routed.department else None,
            "by": "responsibility" if routed.department else "none",
            "category": routed.category_code,
            **(
                {
                    "suggested_category": suggestion.category_code,
                    "confidence": suggestion.confidence,
                    "queue": category.code == FALLBACK_CATEGORY,
                }
                if suggestion is not None
                else {}
            ),
        },
        external_ref=external_ref,
        created_at=now,
    )
    session.add(case)
    session.flush()
    case.no = f"{now:%Y%m%d}{case.id:08d}"
    instance = workflow.start(
        session,
        key=process_key,
        subject_type="case",
        subject_id=case.id,
        by=actor,
        region_path=case.region_path,
        data={"machine": machine},
        now=now,
        calendar=calendar,
        # 12345 calls take their limit from the urgency; so does an urgent help request (2 hours).
        limit=URGENCY_LIMITS[urgency]
        if process_key == "hotline_12345" or (process_key == "help_request" and urgency == Urgency.URGENT)
        else None,
    )
    case.process_instance_id = instance.id
    case.status = instance.state
    case.due_at = instance.due_at
    if lon is not None and lat is not None:
        nearby = possible_duplicates(session, case, now=now)
        if nearby:
            case.routing = {**case.routing, "possible_duplicates": [c.id for c in nearby]}
    session.flush()
    bus.publish(
        session, CaseReported(case_id=case.id, category_code=case.category_code, department_id=case.department_id)
    )
    return case


# --- reading ----------------------------------------------------------------------------------------------------


AREA_ROLES = frozenset({"grid_worker", "dispatcher", "commander", "admin", "property_manager"})


TRAFFIC_CATEGORY = "event.09"  # 道路交通运行: the cases the traffic monitor's alerts open


def case_query(actor: Actor) -> Select[Case]:
    """The cases ``actor`` may see: their area's (area roles), those dispatched to their
    department (department staff), the traffic cases of their area (the TOCC's duty officer, who
    checks and closes them), and their own reports."""
    conditions = []
    if "*" in actor.permissions or (actor.can("case:read") and actor.roles & AREA_ROLES):
        conditions.append(subtree_clause(Case.region_path, actor.scope_path))
    if "traffic_operator" in actor.roles and actor.can("case:read"):
        traffic = or_(Case.category_code == TRAFFIC_CATEGORY, Case.category_code.startswith(TRAFFIC_CATEGORY + "."))
        conditions.append(and_(subtree_clause(Case.region_path, actor.scope_path), traffic))
    if "department_staff" in actor.roles and actor.department_id is not None:
        conditions.append(Case.department_id == actor.department_id)
    if actor.account_id is not None:
        conditions.append(Case.reporter_account_id == actor.account_id)
    if not conditions:
        raise Forbidden(params={"permission": "case:read"})
    return select(Case).where(or_(*conditions))


def get_case(session: Session, actor: Actor, case_id: int) -> Case:
    case = session.scalar(case_query(actor).where(Case.id == case_id))
    if case is None:
        raise NotFound()
    return case


@dataclass
class CaseFilter:
    status: str | None = None
    category_code: str | None = None
    department_id: int | None = None
    open_only: bool = False
    overdue: bool = False
    q: str | None = None
    statuses: tuple[str, ...] = ()
    mine: bool = False  # only the actor's own reports


def list_cases(
    session: Session,
    actor: Actor,
    params: PageParams,
    filters: CaseFilter | None = None,
    *,
    now: datetime | None = None,
) -> tuple[list[Case], int | None]:
    f = filters or CaseFilter()
    query = case_query(actor)
    if f.status:
        query = query.where(Case.status == f.status)
    if f.statuses:
        query = query.where(Case.status.in_(f.statuses))
    if f.mine:
        query = query.where(Case.reporter_account_id == actor.account_id)
    if f.category_code:
        query = query.where(
            or_(Case.category_code == f.category_code, Case.category_code.startswith(f.category_code + "."))
        )
    if f.department_id is not None:
        query = query.where(Case.department_id == f.department_id)
    if f.open_only or f.overdue:
        query = query.where(Case.closed_at.is_(None))
    if f.overdue:
        query = query.where(Case.due_at < (now or utcnow()))
    if f.q and f.q.strip():
        text = f.q.strip()
        query = query.where(or_(Case.title.contains(text, autoescape=True), Case.no == text))
    return fetch_page(session, query.order_by(Case.created_at.desc(), Case.id.desc()), params)


# --- acting ---------------------------------------------------------------------------------------------------


def act(
    session: Session,
    actor: Actor,
    *,
    case_id: int,
    action: str,
    comment: str | None = None,
    department_id: int | None = None,
    party: str | None = None,
    now: datetime | None = None,
    calendar: WorkCalendar | None = None,
) -> Case:
    """Take a process step on a case (立案, 派遣, 退单, 处置, 核查, 结案 …)."""
    case = get_case(session, actor, case_id)
    instance = workflow.instance_for(session, "case", case.id)
    data: dict[str, Any] = {}
    if action == "dispatch":
        chosen = department_id or case.department_id or (case.routing or {}).get("department_id")
        department = session.get(Department, chosen) if chosen else None
        # A case without a place (an address-only 12345 call) may go to any department.
        outside = (
            case.region_path is not None
            and department is not None
            and not case.region_path.startswith(department.region_path)
        )
        if department is None or outside:
            raise Invalid(details=[FieldError("department_id", MSG_DEPARTMENT)])
        previous = case.department_id or (case.routing or {}).get("sent_back_by")
        if previous is not None and previous != department.id:
            case.routing = {**(case.routing or {}), "transferred_from": previous, "by": "dispatcher"}
        case.department_id = department.id
        data["department_id"] = department.id
    step = workflow.act(
        session, instance, action=action, by=actor, comment=comment, data=data, party=party, now=now, calendar=calendar
    )
    if action == "send_back":
        # 退单: the department no longer holds the case; the dispatcher routes it again.
        case.routing = {**(case.routing or {}), "sent_back_by": case.department_id}
        case.department_id = None
    case.status = step.instance.state
    case.closed_at = step.instance.closed_at
    session.flush()
    return case


def reopen(session: Session, actor: Actor, *, case_id: int, comment: str | None, now: datetime | None = None) -> Case:
    case = get_case(session, actor, case_id)
    instance = workflow.instance_for(session, "case", case.id)
    step = workflow.reopen(session, instance, by=actor, comment=comment, now=now)
    case.status = step.instance.state
    case.closed_at = None
    session.flush()
    return case


def available_actions(session: Session, actor: Actor, case: Case) -> list[Any]:
    instance = workflow.instance_for(session, "case", case.id)
    return workflow.available_actions(session, instance, actor)


def timeline(session: Session, actor: Actor, case_id: int) -> list[Any]:
    case = get_case(session, actor, case_id)
    return workflow.history(session, workflow.instance_for(session, "case", case.id))


# --- 好差评 ------------------------------------------------------------------------------------------------------


def rate(session: Session, actor: Actor, *, case_id: int, level: int, comment: str | None = None) -> Rating:
    """The reporter rates a closed case; one re-rating is allowed. 不满意 and 非常不满意 are 差评
    and open a rectification (announced on the bus)."""
    case = get_case(session, actor, case_id)
    if case.reporter_account_id != actor.account_id or actor.account_id is None:
        raise Forbidden(MSG_RATING_WHO)
    if case.closed_at is None:
        if level not in RATING_LEVELS:
            raise Invalid(details=[FieldError("level", MSG_RATING_LEVEL)])
        raise Conflict(MSG_RATING_OPEN)
    row = rate_subject(
        session,
        actor,
        subject_type="case",
        subject_id=case.id,
        level=level,
        comment=comment,
        twice_message=MSG_RATING_TWICE,
    )
    case.rating = level
    session.flush()
    if level <= BAD_RATING:
        bus.publish(session, CaseBadlyRated(case_id=case.id, level=level, department_id=case.department_id))
    return row


# --- duplicates ---------------------------------------------------------------------------------------------------

DUPLICATE_RADIUS_M = 50.0
DUPLICATE_WINDOW = timedelta(hours=72)
MSG_MERGE_SELF = N_("A case cannot be merged into itself.")
MSG_MERGE_TARGET = N_("Merge into an open case that is not itself merged.")
MSG_MERGE_WHO = N_("Only the dispatch centre merges cases.")


def _metres(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    # Equirectangular distance: exact enough within a few hundred metres.
    x = math.radians(lon2 - lon1) * math.cos(math.radians((lat1 + lat2) / 2))
    y = math.radians(lat2 - lat1)
    return 6_371_000 * math.hypot(x, y)


def possible_duplicates(session: Session, case: Case, *, now: datetime | None = None, limit: int = 5) -> list[Case]:
    """Open cases of the same category within 50 m reported in the last 72 hours, nearest first."""
    if case.lon is None or case.lat is None:
        return []
    now = now or utcnow()
    dlat = DUPLICATE_RADIUS_M / 111_000
    dlon = dlat / max(0.1, math.cos(math.radians(case.lat)))
    rows = session.scalars(
        select(Case).where(
            Case.id != case.id,
            Case.category_code == case.category_code,
            Case.closed_at.is_(None),
            Case.duplicate_of.is_(None),
            Case.created_at >= now - DUPLICATE_WINDOW,
            Case.lon.between(case.lon - dlon, case.lon + dlon),
            Case.lat.between(case.lat - dlat, case.lat + dlat),
        )
    ).all()
    near = [(d, c) for c in rows if (d := _metres(case.lon, case.lat, c.lon or 0, c.lat or 0)) <= DUPLICATE_RADIUS_M]
    return [c for _, c in sorted(near, key=lambda p: p[0])[:limit]]


def merge(session: Session, actor: Actor, *, case_id: int, into_id: int, now: datetime | None = None) -> Case:
    """Merge a case into another (并案): it ends here, follows the other's outcome, and its
    reporter is told when that one is closed."""
    if "*" not in actor.permissions and "dispatcher" not in actor.roles:
        raise Forbidden(MSG_MERGE_WHO, params={"permission": "case:merge"})
    case = get_case(session, actor, case_id)
    if into_id == case.id:
        raise Invalid(details=[FieldError("into_id", MSG_MERGE_SELF)])
    target = session.scalar(case_query(actor).where(Case.id == into_id))
    if target is None or target.closed_at is not None or target.duplicate_of is not None:
        raise Invalid(details=[FieldError("into_id", MSG_MERGE_TARGET)])
    if case.closed_at is not None:
        raise Conflict(workflow.MSG_CLOSED)
    instance = workflow.instance_for(session, "case", case.id)
    workflow.end(session, instance, by=actor, action="merge", comment=target.no, now=now)
    case.duplicate_of = target.id
    case.status = "merged"
    case.routing = {**(case.routing or {}), "merged_into": target.id}
    session.flush()
    return case


def duplicates_of(session: Session, case: Case) -> list[Case]:
    return list(session.scalars(select(Case).where(Case.duplicate_of == case.id).order_by(Case.id)))


# --- category corrections ---------------------------------------------------------------------------------------

MSG_RECATEGORIZE_WHO = N_("Only the dispatch centre changes a case's category.")
MSG_RECATEGORIZE_LATE = N_("The category can be changed only before the case is dispatched.")


def recategorize(session: Session, actor: Actor, *, case_id: int, category_code: str) -> Case:
    """The dispatch centre corrects the category (before dispatch); routing follows, and the
    correction teaches the classifier at its next training."""
    if "*" not in actor.permissions and "dispatcher" not in actor.roles:
        raise Forbidden(MSG_RECATEGORIZE_WHO, params={"permission": "case:recategorize"})
    case = get_case(session, actor, case_id)
    category = session.get(Category, category_code)
    if category is None or not category.active or category.level < 2:
        raise Invalid(details=[FieldError("category_code", MSG_CATEGORY)])
    if case.department_id is not None or case.closed_at is not None:
        raise Conflict(MSG_RECATEGORIZE_LATE)
    routed = route(session, category_code=category.code, region_path=case.region_path)
    previous = case.category_code
    case.category_code = category.code
    case.routing = {
        **(case.routing or {}),
        "department_id": routed.department.id if routed.department else None,
        "by": "responsibility" if routed.department else "none",
        "category": routed.category_code,
        "recategorized_from": previous,
        "queue": False,
    }
    if "suggested_category" not in case.routing:
        case.routing["suggested_category"] = previous
    session.flush()
    return case


# --- machine intake: device alarms and AI video -----------------------------------------------------------------

MACHINE = Actor(
    account_id=None,
    label="machine",
    roles=frozenset({"machine"}),
    permissions=frozenset({"case:report"}),
)


def machine_report(
    session: Session,
    *,
    source: str,
    external_ref: str,
    category_code: str,
    title: str,
    lon: float,
    lat: float,
    detail: str = "",
    channel: str = Channel.DEVICE,
    by: Actor | None = None,
) -> tuple[Case, bool]:
    """A case found by a machine: it waits for a person to verify it (核实) before it is filed — except
    where its process starts filed (交通运行事件), which the machine dispatches to the routed department at
    once. The same event delivered twice gives the same case (``external_ref``); returns (case, created)."""
    ref = f"{source}:{external_ref}"[:64]
    existing = session.scalar(select(Case).where(Case.external_ref == ref))
    if existing is not None:
        return existing, False
    case = report(
        session,
        by or MACHINE,
        category_code=category_code,
        title=title,
        description=detail,
        channel=channel,
        lon=lon,
        lat=lat,
        machine=True,
        external_ref=ref,
    )
    routed = (case.routing or {}).get("department_id")
    machine = by or MACHINE
    instance = workflow.instance_for(session, "case", case.id)
    if routed is not None and any(a.name == "dispatch" for a in workflow.available_actions(session, instance, machine)):
        step = workflow.act(session, instance, action="dispatch", by=machine, data={"department_id": routed})
        case.department_id = routed
        case.status = step.instance.state
        session.flush()
    return case, True
