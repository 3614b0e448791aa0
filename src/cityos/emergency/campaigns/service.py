"""Logic of emergency.campaigns: campaigns from templates, their forms and tasks. Self-reports,
key groups and enterprises are in ``reports``; help requests in ``help``; supplies in
``supplies``. Plain functions taking a session; they flush, never commit.

Who sees a campaign: anyone holding a campaign permission whose area overlaps the campaign's
scope (a grid worker sees the community's campaign; a street sees its communities' campaigns);
drafts only those who manage or read campaigns. Data inside a campaign (reports, people, tasks)
is always filtered to the caller's own area as well.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import segno
from sqlalchemy import Select, and_, exists, func, insert, literal, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from cityos.core import bus
from cityos.core.actor import Actor, subtree_clause
from cityos.core.db import UTCDateTime, utcnow
from cityos.core.errors import Conflict, FieldError, Forbidden, Invalid, NotFound
from cityos.core.i18n import N_, translate
from cityos.core.settings import get_settings
from cityos.emergency.campaigns import forms, kinds
from cityos.emergency.campaigns.events import CampaignPublished
from cityos.emergency.campaigns.models import (
    Campaign,
    CampaignForm,
    CampaignStatus,
    CampaignTemplate,
    Reach,
    SuppliesItem,
    Task,
    TaskStatus,
)
from cityos.people.models import Person, PersonTag, Residence
from cityos.people.pii import mask_name
from cityos.places.models import Region

SCOPE_LEVELS = ("city", "district", "street", "community", "grid", "estate", "building")
READ_PERMS = ("campaign:read", "campaign:manage", "campaign:task")
ANY_PERMS = (*READ_PERMS, "campaign:report", "supplies:distribute")

MSG_TEMPLATE = N_("Choose one of the campaign templates.")
MSG_SCOPE = N_("Choose a region inside your area, from a city down to a building.")
MSG_TITLE = N_("Give a title of 1 to {max_length} characters.")
MSG_NOT_DRAFT = N_("Only a draft campaign can be published.")
MSG_NOT_PUBLISHED = N_("Only a running campaign can be closed.")
MSG_CLOSED = N_("This campaign has been closed.")
MSG_NOT_RUNNING = N_("This campaign is not running.")
MSG_NOTE = N_("At most {max_length} characters.")
MSG_VERSION = N_("This form version does not exist.")
MSG_OUTSIDE = N_("This region is outside the campaign or your area.")
MSG_BUILDING = N_("This building is not part of the campaign.")


# --- time and places ----------------------------------------------------------------------------------------


def city_zone() -> ZoneInfo:
    return ZoneInfo(get_settings().timezone)


def local_day(moment: datetime | None = None) -> date:
    """The city's calendar day at ``moment`` (now by default)."""
    return (moment or utcnow()).astimezone(city_zone()).date()


def local_hour(moment: datetime) -> int:
    return moment.astimezone(city_zone()).hour


def ancestor_paths(path: str) -> list[str]:
    """'/1/5/9/' → ['/', '/1/', '/1/5/', '/1/5/9/']."""
    parts = [p for p in path.strip("/").split("/") if p]
    return ["/"] + ["/" + "/".join(parts[: n + 1]) + "/" for n in range(len(parts))]


def path_ids(path: str) -> list[int]:
    return [int(p) for p in path.strip("/").split("/") if p.isdigit()]


def ancestors_at(session: Session, paths: list[str], level: str) -> dict[str, Region]:
    """For each path, its ancestor (or itself) at ``level``, in one query."""
    ids = {i for p in paths for i in path_ids(p)}
    if not ids:
        return {}
    found = {r.id: r for r in session.scalars(select(Region).where(Region.id.in_(ids), Region.level == level))}
    out: dict[str, Region] = {}
    for p in paths:
        hit = next((found[i] for i in path_ids(p) if i in found), None)
        if hit is not None:
            out[p] = hit
    return out


def shown_name(actor: Actor, name: str) -> str:
    return name if actor.can("pii:read") else mask_name(name)


def require_any(actor: Actor, permissions: tuple[str, ...], *, region: str | None = None) -> None:
    if not any(actor.can(p, region=region) for p in permissions):
        raise Forbidden(params={"permission": permissions[0]})


WORK_PERMS = ("campaign:task", "campaign:manage")


def can_work(actor: Actor, path: str) -> bool:
    """Door-to-door work and reporting for others: grid workers and volunteers, and the staff who run the campaign."""
    return any(actor.can(p, region=path) for p in WORK_PERMS)


def _overlaps(actor: Actor, column: Any) -> Any:
    """The campaign's scope lies inside the actor's area, or the actor's area inside it."""
    return or_(subtree_clause(column, actor.scope_path), column.in_(ancestor_paths(actor.scope_path)))


def area(session: Session, actor: Actor, campaign: Campaign, region_id: int | None = None) -> str:
    """The subtree a list covers: the deepest of the campaign's scope, the actor's area and the
    asked region, which must lie on one line of the tree (else the region is outside)."""
    paths = [campaign.scope_path, actor.scope_path]
    if region_id is not None:
        region = session.get(Region, region_id)
        if region is None:
            raise NotFound()
        paths.append(region.path)
    deepest = max(paths, key=len)
    if not all(deepest.startswith(p) for p in paths):
        raise NotFound(MSG_OUTSIDE)
    return deepest


# --- templates ----------------------------------------------------------------------------------------------


def install(session: Session) -> None:
    """Installs the shipped templates (idempotent); an existing template keeps its edits."""
    existing = set(session.scalars(select(CampaignTemplate.key)))
    for tpl in kinds.TEMPLATES.values():
        if tpl.key in existing:
            continue
        session.add(
            CampaignTemplate(
                key=tpl.key,
                title=tpl.title,
                description=tpl.description,
                form=tpl.form,
                settings=tpl.settings(),
                supplies=[{"code": s.code, "name": s.name, "unit": s.unit} for s in tpl.supplies],
            )
        )
    session.flush()


def templates(session: Session) -> list[CampaignTemplate]:
    return list(session.scalars(select(CampaignTemplate).order_by(CampaignTemplate.key)))


# --- campaigns ----------------------------------------------------------------------------------------------


def _clean_title(value: str | None, errors: list[FieldError]) -> str:
    title = " ".join((value or "").split())
    if not 1 <= len(title) <= 128:
        errors.append(FieldError("title", MSG_TITLE, {"max_length": 128}))
    return title


def create_from_template(
    session: Session,
    actor: Actor,
    *,
    template: str,
    scope_region_id: int,
    title: str | None = None,
    now: datetime | None = None,
) -> Campaign:
    """A draft campaign over a region subtree, with the template's form (version 1), settings
    and supplies, in one step."""
    actor.require("campaign:manage")
    now = now or utcnow()
    errors: list[FieldError] = []
    tpl = session.get(CampaignTemplate, template) if template else None
    if tpl is None:
        errors.append(FieldError("template", MSG_TEMPLATE))
    region = session.get(Region, scope_region_id) if scope_region_id else None
    if region is None or region.level not in SCOPE_LEVELS or not actor.covers(region):
        errors.append(FieldError("scope_region_id", MSG_SCOPE))
    if title is None or not title.strip():
        default = f"{translate(tpl.title)} · {region.name}" if tpl is not None and region is not None else "-"
        clean = _clean_title(default[:128], errors)
    else:
        clean = _clean_title(title, errors)
    if errors or tpl is None or region is None:
        raise Invalid(details=errors)
    actor.require("campaign:manage", region=region)
    campaign = Campaign(
        title=clean,
        description=translate(tpl.description),
        template_key=tpl.key,
        scope_region_id=region.id,
        scope_path=region.path,
        status=CampaignStatus.DRAFT,
        settings=dict(tpl.settings),
        form_version=1,
        created_by_account_id=actor.account_id,
        created_at=now,
    )
    session.add(campaign)
    session.flush()
    session.add(
        CampaignForm(
            campaign_id=campaign.id, version=1, schema=tpl.form, created_by_account_id=actor.account_id, created_at=now
        )
    )
    for supply in tpl.supplies or []:
        session.add(
            SuppliesItem(campaign_id=campaign.id, code=supply["code"], name=supply["name"], unit=supply["unit"])
        )
    session.flush()
    return campaign


def campaign_query(actor: Actor) -> Select[Campaign]:
    if not any(actor.can(p) for p in ANY_PERMS):
        raise Forbidden(params={"permission": "campaign:read"})
    query = select(Campaign).where(_overlaps(actor, Campaign.scope_path))
    if not (actor.can("campaign:manage") or actor.can("campaign:read")):
        query = query.where(Campaign.status != CampaignStatus.DRAFT)
    return query


_CAMPAIGNS = "cityos.campaigns.campaigns"


def get_campaign(session: Session, actor: Actor, campaign_id: int) -> Campaign:
    """The campaign when the actor may see it (the rules of ``campaign_query``, checked on the
    row: a daily report looks its campaign up thousands of times, from the identity map)."""
    if not any(actor.can(p) for p in ANY_PERMS):
        raise Forbidden(params={"permission": "campaign:read"})
    campaign = session.get(Campaign, campaign_id) if campaign_id else None
    if campaign is not None:  # held for the session, so the identity map keeps answering
        session.info.setdefault(_CAMPAIGNS, {})[campaign.id] = campaign
    if campaign is None or not (
        campaign.scope_path.startswith(actor.scope_path) or actor.scope_path.startswith(campaign.scope_path)
    ):
        raise NotFound()
    if campaign.status == CampaignStatus.DRAFT and not (actor.can("campaign:manage") or actor.can("campaign:read")):
        raise NotFound()
    return campaign


def list_campaigns(session: Session, actor: Actor, *, status: str | None = None) -> list[Campaign]:
    query = campaign_query(actor)
    if status:
        query = query.where(Campaign.status == status)
    return list(session.scalars(query.order_by(Campaign.created_at.desc(), Campaign.id.desc())))


def running(campaign: Campaign) -> None:
    if campaign.status == CampaignStatus.CLOSED:
        raise Conflict(MSG_CLOSED)
    if campaign.status != CampaignStatus.PUBLISHED:
        raise Conflict(MSG_NOT_RUNNING)


def _manageable(session: Session, actor: Actor, campaign_id: int) -> Campaign:
    campaign = get_campaign(session, actor, campaign_id)
    actor.require("campaign:manage", region=campaign.scope_path)
    return campaign


@dataclass(frozen=True)
class Published:
    campaign: Campaign
    tasks: int
    buildings: int


def _generate_tasks(session: Session, campaign: Campaign, now: datetime) -> int:
    """One task per building (or unit) of the scope, in one INSERT … SELECT."""
    kind = str(campaign.settings.get("task_kind") or "door_check")
    level = str(campaign.settings.get("task_level") or "building")
    in_scope = subtree_clause(Region.path, campaign.scope_path)
    if level == "unit":
        child = aliased(Region)
        no_units = ~exists().where(child.parent_id == Region.id, child.level == "unit")
        where = and_(in_scope, or_(Region.level == "unit", and_(Region.level == "building", no_units)))
    else:
        where = and_(in_scope, Region.level == "building")
    columns = ["campaign_id", "kind", "region_id", "region_path", "status", "created_at"]
    rows = select(
        literal(campaign.id),
        literal(kind),
        Region.id,
        Region.path,
        literal(TaskStatus.OPEN.value),
        literal(now, UTCDateTime()),
    ).where(where)
    session.execute(insert(Task).from_select(columns, rows))
    return int(session.scalar(select(func.count()).select_from(Task).where(Task.campaign_id == campaign.id)) or 0)


def buildings(session: Session, actor: Actor, *, campaign_id: int, region_id: int | None = None) -> list[Region]:
    campaign = get_campaign(session, actor, campaign_id)
    path = area(session, actor, campaign, region_id)
    return list(
        session.scalars(
            select(Region).where(subtree_clause(Region.path, path), Region.level == "building").order_by(Region.path)
        )
    )


def publish(session: Session, actor: Actor, *, campaign_id: int, now: datetime | None = None) -> Published:
    """Start a draft: tasks per building or unit for its grid workers and volunteers, the
    address book's groups brought up to date, and a broadcast to everyone in the scope."""
    now = now or utcnow()
    campaign = _manageable(session, actor, campaign_id)
    if campaign.status != CampaignStatus.DRAFT:
        raise Conflict(MSG_NOT_DRAFT)
    campaign.status = CampaignStatus.PUBLISHED
    campaign.started_at = now
    session.flush()
    tasks = _generate_tasks(session, campaign, now)
    scope = session.get(Region, campaign.scope_region_id)
    count = int(
        session.scalar(
            select(func.count())
            .select_from(Region)
            .where(subtree_clause(Region.path, campaign.scope_path), Region.level == "building")
        )
        or 0
    )
    from cityos.emergency.addressbook import service as addressbook

    sync = getattr(addressbook, "sync_groups", None)
    if sync is not None and scope is not None:
        sync(session, region=scope)
    send = getattr(addressbook, "broadcast", None)
    if send is not None and actor.can("broadcast:send", region=campaign.scope_path):
        send(
            session,
            actor,
            target_region_id=campaign.scope_region_id,
            title=campaign.title,
            body=translate(
                "The campaign has started. Report every day through the QR code on your building, "
                "or ask your building lead or grid worker for help."
            ),
            campaign_id=campaign.id,
        )
    session.flush()
    bus.publish(session, CampaignPublished(campaign_id=campaign.id, scope_path=campaign.scope_path, tasks=tasks))
    return Published(campaign, tasks, count)


def close(session: Session, actor: Actor, *, campaign_id: int, now: datetime | None = None) -> Campaign:
    campaign = _manageable(session, actor, campaign_id)
    if campaign.status != CampaignStatus.PUBLISHED:
        raise Conflict(MSG_NOT_PUBLISHED)
    campaign.status = CampaignStatus.CLOSED
    campaign.ended_at = now or utcnow()
    session.flush()
    return campaign


# --- forms --------------------------------------------------------------------------------------------------


def form_of(session: Session, campaign: Campaign, version: int | None = None) -> CampaignForm:
    wanted = version if version is not None else campaign.form_version
    row = session.scalar(
        select(CampaignForm).where(CampaignForm.campaign_id == campaign.id, CampaignForm.version == wanted)
    )
    if row is None:
        raise NotFound(MSG_VERSION)
    return row


def form_versions(session: Session, campaign: Campaign) -> list[CampaignForm]:
    return list(
        session.scalars(
            select(CampaignForm).where(CampaignForm.campaign_id == campaign.id).order_by(CampaignForm.version)
        )
    )


def get_form(session: Session, actor: Actor, *, campaign_id: int, version: int | None = None) -> CampaignForm:
    return form_of(session, get_campaign(session, actor, campaign_id), version)


def save_form(
    session: Session,
    actor: Actor,
    *,
    campaign_id: int,
    questions: Any,
    title: str | None = None,
    now: datetime | None = None,
) -> CampaignForm:
    """Store the builder's questions as a new form version (the same questions again store
    nothing). Reports keep the version they answered, so old answers stay readable."""
    campaign = _manageable(session, actor, campaign_id)
    if campaign.status == CampaignStatus.CLOSED:
        raise Conflict(MSG_CLOSED)
    current = form_of(session, campaign)
    checked, errors = forms.check_questions(questions)
    form_title = " ".join((title if title is not None else str(current.schema.get("title") or "")).split())
    if not 1 <= len(form_title) <= 64:
        errors.append(FieldError("title", forms.MSG_FORM_TITLE))
    if errors:
        raise Invalid(details=errors)
    schema = forms.schema_of(checked, title=form_title)
    if forms.questions_of(schema) == forms.questions_of(current.schema) and form_title == current.schema.get("title"):
        return current
    row = CampaignForm(
        campaign_id=campaign.id,
        version=campaign.form_version + 1,
        schema=schema,
        created_by_account_id=actor.account_id,
        created_at=now or utcnow(),
    )
    session.add(row)
    campaign.form_version = row.version
    session.flush()
    return row


# --- building QR codes ----------------------------------------------------------------------------------------


def report_link(campaign_id: int, building_id: int) -> str:
    return f"/e/{campaign_id}/b/{building_id}"


def building_qr_svg(campaign_id: int, building_id: int, *, base_url: str = "") -> str:
    """The building's QR code (inline SVG) that opens its self-report page."""
    url = base_url.rstrip("/") + report_link(campaign_id, building_id)
    return str(segno.make(url, error="m").svg_inline(scale=4, dark="#1d2330", title="QR"))


def template_title(key: str, session: Session) -> str:
    tpl = session.get(CampaignTemplate, key)
    return translate(tpl.title) if tpl is not None else key


def person_tags(session: Session, path: str) -> dict[int, set[str]]:
    """The tags of everyone living in the subtree (one query, no long IN list)."""
    rows = session.execute(
        select(PersonTag.person_id, PersonTag.tag)
        .join(Residence, Residence.person_id == PersonTag.person_id)
        .join(Region, Region.id == Residence.room_id)
        .where(subtree_clause(Region.path, path), Residence.until.is_(None))
    )
    out: dict[int, set[str]] = {}
    for pid, tag in rows:
        out.setdefault(int(pid), set()).add(str(tag))
    return out


@dataclass(frozen=True)
class Resident:
    person_id: int
    name: str
    room_id: int
    room_path: str
    household_id: int | None


def residents(session: Session, path: str) -> list[Resident]:
    """Everyone with a current residence in the subtree, once each (their first room there)."""
    rows = session.execute(
        select(Person.id, Person.name, Region.id, Region.path, Residence.household_id)
        .join(Residence, Residence.person_id == Person.id)
        .join(Region, Region.id == Residence.room_id)
        .where(subtree_clause(Region.path, path), Residence.until.is_(None))
        .order_by(Region.path, Person.id)
    )
    seen: set[int] = set()
    out: list[Resident] = []
    for pid, name, room_id, room_path, household_id in rows:
        if pid in seen:
            continue
        seen.add(pid)
        out.append(Resident(int(pid), str(name), int(room_id), str(room_path), household_id))
    return out


# --- people of the campaign ----------------------------------------------------------------------------


def rooms_of(session: Session, person_id: int, within: str) -> list[Region]:
    """The person's current rooms inside ``within``."""
    return [room for room, _ in homes_of(session, person_id, within)]


def homes_of(session: Session, person_id: int, within: str) -> list[tuple[Region, int | None]]:
    """The person's current rooms inside ``within`` with the household of each residence."""
    rows = session.execute(
        select(Region, Residence.household_id)
        .join(Residence, Residence.room_id == Region.id)
        .where(Residence.person_id == person_id, Residence.until.is_(None), subtree_clause(Region.path, within))
        .order_by(Region.path)
    ).all()
    return [(room, household_id) for room, household_id in rows]


_BUILDINGS = "cityos.campaigns.buildings"


def building_above(session: Session, path: str) -> Region | None:
    """The building a room (or unit) lies in; remembered for the session, since the reports of
    one building's residents ask the same question again and again."""
    cache: dict[str, Region | None] = session.info.setdefault(_BUILDINGS, {})
    if path not in cache:
        if len(cache) > 20_000:
            cache.clear()
        cache[path] = ancestors_at(session, [path], "building").get(path)
    return cache[path]


_FORMS = "cityos.campaigns.forms"


def schema_of(session: Session, campaign: Campaign) -> dict[str, Any]:
    """The current form's schema; versions never change once stored, so the session keeps them."""
    cache: dict[tuple[int, int], dict[str, Any]] = session.info.setdefault(_FORMS, {})
    key = (campaign.id, campaign.form_version)
    if key not in cache:
        cache[key] = form_of(session, campaign).schema
    return cache[key]


def building_of(session: Session, campaign: Campaign, building_id: int) -> Region:
    building = session.get(Region, building_id)
    if building is None or building.level != "building" or not building.path.startswith(campaign.scope_path):
        raise NotFound(MSG_BUILDING)
    return building


def mark_reached_once(
    session: Session, campaign_id: int, person_id: int, region_path: str, how: str, by: int | None, now: datetime
) -> bool:
    """Record the first time a person is reached (one INSERT … ON CONFLICT DO NOTHING on both
    databases); False when they already were."""
    values = {
        "campaign_id": campaign_id,
        "person_id": person_id,
        "region_path": region_path,
        "how": how,
        "by_account_id": by,
        "at": now,
    }
    dialect = session.get_bind().dialect.name
    if dialect in ("sqlite", "postgresql"):
        from sqlalchemy.dialects import postgresql, sqlite

        upsert = sqlite.insert if dialect == "sqlite" else postgresql.insert
        statement = upsert(Reach).values(**values).on_conflict_do_nothing(index_elements=["campaign_id", "person_id"])
        result = session.execute(statement.returning(Reach.id))
        return result.first() is not None
    if session.scalar(select(Reach.id).where(Reach.campaign_id == campaign_id, Reach.person_id == person_id)):
        return False
    try:
        with session.begin_nested():
            session.add(Reach(**values))
    except IntegrityError:
        return False
    return True
