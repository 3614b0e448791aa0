"""Four-level command (四级指挥 市-区-街-社): a campaign's live roll-ups at every level with
drill-down to the building, the unreached residents, overdue help requests and the figures of
the map (the daily report built from them is ``report.py``). Plain functions taking a session;
they flush, never commit.

Who sees what: ``campaign:read`` over the region asked for. A campaign is visible when its
scope and the actor's overlap; the figures are those of the region asked for *within* the
campaign's scope — a community's staff see only their community of a city-wide campaign, a
district sees all of its communities, the city sees a community's campaign at the city level.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from cityos.core.actor import Actor, subtree_range
from cityos.core.db import utcnow
from cityos.core.errors import FieldError, Invalid, NotFound
from cityos.core.i18n import N_
from cityos.core.pagination import PageParams
from cityos.core.settings import get_settings
from cityos.emergency.campaigns.kinds import HELP_TITLES, SPECIAL_TAGS
from cityos.emergency.campaigns.models import Campaign, CampaignStatus, HelpRequest, Reach
from cityos.emergency.command import sources, store
from cityos.emergency.command.models import RollupBuild
from cityos.people import pii
from cityos.people import service as people
from cityos.people.models import Person, PersonTag
from cityos.people.pii import mask_name
from cityos.places.models import LEVEL_DEPTH, Region, RegionLevel

MSG_DAY_FUTURE = N_("The day cannot be in the future.")
MSG_REGION_OUTSIDE = N_("This area is not part of the campaign's area.")
MSG_LIST_LEVEL = N_("Choose a street or a smaller area to list residents.")

BUILDING_DEPTH = LEVEL_DEPTH[RegionLevel.BUILDING]
LIST_MIN_DEPTH = LEVEL_DEPTH[RegionLevel.STREET]  # lists of people start at the street
MAX_CHILDREN = 500
MAX_MAP_BUILDINGS = 2000


def local_today() -> date:
    return datetime.now(ZoneInfo(get_settings().timezone)).date()


def local_day(moment: datetime) -> date:
    return moment.astimezone(ZoneInfo(get_settings().timezone)).date()


# --- what a roll-up says ------------------------------------------------------------------------------


def _rate(part: int, whole: int) -> float | None:
    return None if whole <= 0 else round(100.0 * min(part, whole) / whole, 1)


@dataclass(frozen=True)
class Figures:
    """The figures of one region for one campaign and day (汇总指标)."""

    residents: int = 0  # 常住居民 in scope
    households: int = 0
    special: int = 0  # 特殊人群
    reached: int = 0  # 已触达 (by report, at the door or by phone)
    reported: int = 0  # 今日已报
    abnormal: int = 0  # 今日异常
    staff_reported: int = 0  # 企业员工今日已报
    staff_abnormal: int = 0
    help_total: int = 0
    help_open: int = 0  # not yet answered (open or escalated)
    help_overdue: int = 0  # of those, past the time limit
    help_escalated: int = 0
    tasks_open: int = 0
    tasks_done: int = 0
    supplied: int = 0  # households that received supplies

    @property
    def unreached(self) -> int:
        return max(0, self.residents - self.reached)

    @property
    def not_reported(self) -> int:
        return max(0, self.residents - self.reported)

    @property
    def reach_rate(self) -> float | None:
        return _rate(self.reached, self.residents)

    @property
    def report_rate(self) -> float | None:
        return _rate(self.reported, self.residents)

    @property
    def supplies_rate(self) -> float | None:
        return _rate(self.supplied, self.households)

    @property
    def tasks_rate(self) -> float | None:
        return _rate(self.tasks_done, self.tasks_open + self.tasks_done)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {name: getattr(self, name) for name in self.__dataclass_fields__}
        for name in ("unreached", "not_reported", "reach_rate", "report_rate", "supplies_rate", "tasks_rate"):
            out[name] = getattr(self, name)
        return out


@dataclass(frozen=True)
class RegionFigures:
    id: int
    name: str
    level: str
    path: str
    figures: Figures


@dataclass(frozen=True)
class Crumb:
    id: int
    name: str
    level: str


@dataclass(frozen=True)
class Rollup:
    """A campaign's figures at one region and for each of its children (drill-down)."""

    campaign_id: int
    campaign_title: str
    campaign_status: str
    region: RegionFigures
    day: date
    children: list[RegionFigures]
    ancestors: list[Crumb]  # inside the actor's scope, root first
    as_of: datetime
    live: bool  # counted from the records on this read (the roll-up rows are not built yet)


# --- access ---------------------------------------------------------------------------------------------


def _overlaps(a: str, b: str) -> bool:
    return a.startswith(b) or b.startswith(a)


def get_campaign(session: Session, actor: Actor, campaign_id: int) -> Campaign:
    """The campaign when its scope and the actor's overlap and the actor may read roll-ups; 404
    (not 403) otherwise, so its existence is not leaked."""
    campaign = session.get(Campaign, campaign_id)
    if campaign is None or not _overlaps(campaign.scope_path, actor.scope_path):
        raise NotFound()
    actor.require("campaign:read")
    return campaign


def campaigns_for(session: Session, actor: Actor) -> list[Campaign]:
    """The campaigns the actor's command dashboard can show: published first, then closed, newest first."""
    actor.require("campaign:read")
    prefixes = store.chain_paths(actor.scope_path) if actor.scope_path != "/" else []
    inside = actor.scope_clause(Campaign.scope_path)
    where = (inside | Campaign.scope_path.in_(prefixes)) if prefixes else inside
    rows = session.scalars(
        select(Campaign)
        .where(where, Campaign.status != CampaignStatus.DRAFT.value)
        .order_by(Campaign.id.desc())
        .limit(200)
    ).all()
    order = {CampaignStatus.PUBLISHED.value: 0, CampaignStatus.CLOSED.value: 1}
    return sorted(rows, key=lambda c: (order.get(c.status, 2), -c.id))


def resolve_region(session: Session, actor: Actor, campaign: Campaign, region_id: int | None) -> Region:
    """The region to show: the one asked for, else the deeper of the actor's scope and the
    campaign's scope root. 404 outside the actor's scope; 422 outside the campaign's area."""
    if region_id is None:
        deeper = campaign.scope_path if campaign.scope_path.startswith(actor.scope_path) else actor.scope_path
        region = session.scalar(select(Region).where(Region.path == deeper))
        if region is None:
            raise NotFound()
    else:
        found = session.get(Region, region_id)
        if found is None or not actor.covers(found):
            raise NotFound()
        region = found
        if not _overlaps(region.path, campaign.scope_path):
            raise Invalid(details=[FieldError("region_id", MSG_REGION_OUTSIDE)])
    actor.require("campaign:read", region=region)
    return region


def _day(day: date | None) -> date:
    today = local_today()
    if day is None:
        return today
    if day > today:
        raise Invalid(details=[FieldError("day", MSG_DAY_FUTURE)])
    return day


def campaign_span(campaign: Campaign, region: Region) -> tuple[str, str]:
    """The path range of the region's records that belong to the campaign."""
    return subtree_range(campaign.scope_path if campaign.scope_path.startswith(region.path) else region.path)


# --- the roll-up ----------------------------------------------------------------------------------------


def rollup(
    session: Session, actor: Actor, *, campaign_id: int, region_id: int | None = None, day: date | None = None
) -> Rollup:
    """The campaign's figures at ``region_id`` (default: the actor's area within the campaign) on
    ``day`` (default: today, city time), with one entry per child region down to the buildings."""
    campaign = get_campaign(session, actor, campaign_id)
    region = resolve_region(session, actor, campaign, region_id)
    the_day = _day(day)
    now = utcnow()
    kids = _child_regions(session, campaign, region)
    counts, child_counts, live = _counts(session, campaign, region, kids, the_day)
    helps = _help_counts(session, campaign, region, kids, now)
    children = [
        RegionFigures(k.id, k.name, k.level, k.path, figures_of(child_counts.get(k.id, {}), helps.get(k.id)))
        for k in kids
    ]
    return Rollup(
        campaign_id=campaign.id,
        campaign_title=campaign.title,
        campaign_status=campaign.status,
        region=RegionFigures(
            region.id, region.name, region.level, region.path, figures_of(counts, helps.get(region.id))
        ),
        day=the_day,
        children=children,
        ancestors=[Crumb(r.id, r.name, r.level) for r in _ancestors(session, actor, region)],
        as_of=now,
        live=live,
    )


def _ancestors(session: Session, actor: Actor, region: Region) -> list[Region]:
    from cityos.places import service as places

    return places.ancestors(session, region, within=actor.scope_path)


def _child_regions(session: Session, campaign: Campaign, region: Region) -> list[Region]:
    """The children shown for drill-down: down to the buildings, only those in the campaign."""
    if region.depth >= BUILDING_DEPTH:
        return []
    query = select(Region).where(Region.parent_id == region.id)
    if campaign.scope_path.startswith(region.path) and campaign.scope_path != region.path:
        on_chain = store.path_ids(campaign.scope_path)[region.depth + 1]
        query = query.where(Region.id == on_chain)
    return list(session.scalars(query.order_by(Region.code, Region.id).limit(MAX_CHILDREN)))


def _counts(
    session: Session, campaign: Campaign, region: Region, kids: Sequence[Region], day: date
) -> tuple[dict[str, int], dict[int, dict[str, int]], bool]:
    """Counts of the region and of its children: from the roll-up rows when built, else live."""
    if store.built(session, campaign.id) is not None:
        mine, stored_kids = store.read(session, campaign.id, region.id, day)
        if mine is not None:
            return mine.counts, {k.region_id: k.counts for k in stored_kids}, False
    spans = [sources.Span(region.id, *campaign_span(campaign, region))]
    spans += [sources.Span(k.id, *campaign_span(campaign, k)) for k in kids]
    live = sources.ranges(session, campaign.id, day, spans)
    return live[region.id], {k.id: live[k.id] for k in kids}, True


def _help_counts(
    session: Session, campaign: Campaign, region: Region, kids: Sequence[Region], now: datetime
) -> dict[int, sources.HelpCounts]:
    """Help requests of the region and each child (always counted from the records: their state
    changes by the minute, and "overdue" with the clock)."""
    whole = sources.Span(region.id, *campaign_span(campaign, region))
    parts = [sources.Span(k.id, *campaign_span(campaign, k)) for k in kids]
    return sources.help_counts(session, campaign.id, whole, parts, now)


def figures_of(counts: dict[str, int], helps: sources.HelpCounts | None) -> Figures:
    h = helps or sources.HelpCounts()
    return Figures(
        residents=counts.get("residents", 0),
        households=counts.get("households", 0),
        special=counts.get("special", 0),
        reached=counts.get("reached", 0),
        reported=counts.get("reported", 0),
        abnormal=counts.get("abnormal", 0),
        staff_reported=counts.get("staff_reported", 0),
        staff_abnormal=counts.get("staff_abnormal", 0),
        help_total=h.total,
        help_open=h.open,
        help_overdue=h.overdue,
        help_escalated=h.escalated,
        tasks_open=counts.get("tasks_open", 0),
        tasks_done=counts.get("tasks_done", 0),
        supplied=counts.get("supplied", 0),
    )


# --- who has not been reached -----------------------------------------------------------------------------


@dataclass(frozen=True)
class UnreachedPerson:
    person_id: int
    name: str  # masked (张*) unless the actor may read residents
    phone: str | None  # masked unless pii:read (then the read is audited)
    address: str  # 小区 楼栋 单元 房
    building_id: int | None
    tags: list[str]  # special-group tags, listed first


@dataclass
class UnreachedPage:
    region: Region
    items: list[UnreachedPerson]
    total: int
    page: int
    size: int


def unreached(
    session: Session, actor: Actor, *, campaign_id: int, region_id: int | None, params: PageParams
) -> UnreachedPage:
    """Residents of the region (a street or smaller) not yet reached in the campaign, the special
    groups first, then room by room."""
    campaign = get_campaign(session, actor, campaign_id)
    region = resolve_region(session, actor, campaign, region_id)
    if region.depth < LIST_MIN_DEPTH:
        raise Invalid(details=[FieldError("region_id", MSG_LIST_LEVEL)])
    lo, hi = campaign_span(campaign, region)
    reached = exists().where(Reach.campaign_id == campaign.id, Reach.person_id == Person.id)
    special = exists().where(PersonTag.person_id == Person.id, PersonTag.tag.in_(SPECIAL_TAGS))
    base = select(Person).where(Person.region_path >= lo, Person.region_path < hi, ~reached)
    total = int(session.scalar(select(func.count()).select_from(base.subquery())) or 0)
    rows = list(
        session.scalars(
            base.order_by(special.desc(), Person.region_path, Person.id).limit(params.size).offset(params.offset)
        )
    )
    return UnreachedPage(region, _unreached_items(session, actor, rows), total, params.page, params.size)


def _unreached_items(session: Session, actor: Actor, rows: Sequence[Person]) -> list[UnreachedPerson]:
    tags = people.tags_of(session, [p.id for p in rows])
    rooms = {
        r.id: r
        for r in session.scalars(select(Region).where(Region.id.in_({p.region_id for p in rows if p.region_id})))
    }
    lines = addresses(session, list(rooms.values()))
    full_names = actor.can("person:read")
    out = []
    for person in rows:
        if actor.can("pii:read", region=person.region_path):
            phone = pii.reveal(session, actor, person, reason="emergency.unreached").phone
        else:
            phone = pii.masked(person).phone
        ids = store.path_ids(person.region_path or "")
        building = ids[BUILDING_DEPTH] if len(ids) > BUILDING_DEPTH else None
        out.append(
            UnreachedPerson(
                person_id=person.id,
                name=person.name if full_names else mask_name(person.name),
                phone=phone,
                address=lines.get(person.region_id, "") if person.region_id else "",
                building_id=building,
                tags=[t for t in SPECIAL_TAGS if t in tags.get(person.id, [])],
            )
        )
    return out


# --- overdue help requests ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class HelpItem:
    id: int
    case_id: int | None
    category: str  # msgid
    address: str
    status: str
    escalation_level: int
    created_at: datetime
    due_at: datetime


def overdue_help(
    session: Session, actor: Actor, *, campaign_id: int, region_id: int | None = None, limit: int = 50
) -> list[HelpItem]:
    """Help requests of the region past their time limit and not yet answered, the oldest first."""
    campaign = get_campaign(session, actor, campaign_id)
    region = resolve_region(session, actor, campaign, region_id)
    return overdue_in(session, campaign, region, limit=limit)


def overdue_in(session: Session, campaign: Campaign, region: Region, *, limit: int) -> list[HelpItem]:
    lo, hi = campaign_span(campaign, region)
    rows = list(
        session.scalars(
            select(HelpRequest)
            .where(
                HelpRequest.campaign_id == campaign.id,
                HelpRequest.region_path >= lo,
                HelpRequest.region_path < hi,
                HelpRequest.status.in_(sources.OPEN_HELP),
                HelpRequest.due_at < utcnow(),
            )
            .order_by(HelpRequest.due_at, HelpRequest.id)
            .limit(max(1, min(limit, 500)))
        )
    )
    places = _places_of(session, [r.region_path for r in rows])
    return [
        HelpItem(
            id=r.id,
            case_id=r.case_id,
            category=HELP_TITLES.get(r.category_code, r.category_code),
            address=places.get(r.region_path, ""),
            status=r.status,
            escalation_level=r.escalation_level,
            created_at=r.created_at,
            due_at=r.due_at,
        )
        for r in rows
    ]


def _places_of(session: Session, paths: Iterable[str]) -> dict[str, str]:
    """The address (小区 楼栋 单元 房) of each path's region."""
    wanted = {p for p in paths if p}
    ids = {store.path_ids(p)[-1]: p for p in wanted if store.path_ids(p)}
    regions = list(session.scalars(select(Region).where(Region.id.in_(list(ids)))))
    lines = addresses(session, regions)
    return {ids[r.id]: lines.get(r.id, r.name) for r in regions}


ADDRESS_FROM = LEVEL_DEPTH[RegionLevel.ESTATE]


def addresses(session: Session, regions: Sequence[Region]) -> dict[int, str]:
    """小区 楼栋 单元 房 of each region, in one query (what a door-knocker needs; the community is known)."""
    chains = {r.id: store.path_ids(r.path) for r in regions}
    ids = {i for chain in chains.values() for i in chain[ADDRESS_FROM:]}
    names = (
        {int(i): str(n) for i, n in session.execute(select(Region.id, Region.name).where(Region.id.in_(ids)))}
        if ids
        else {}
    )
    out = {}
    for region in regions:
        parts = [names[i] for i in chains[region.id][ADDRESS_FROM:] if i in names]
        out[region.id] = " ".join(parts) or region.name
    return out


# --- the map ------------------------------------------------------------------------------------------------


def map_features(
    session: Session, actor: Actor, *, campaign_id: int, region_id: int | None = None, day: date | None = None
) -> dict[str, Any]:
    """GeoJSON of the region's buildings (from a community down) or of its children (above),
    each with its report rate of the day, for the dashboard's map."""
    campaign = get_campaign(session, actor, campaign_id)
    region = resolve_region(session, actor, campaign, region_id)
    the_day = _day(day)
    if region.depth >= LEVEL_DEPTH[RegionLevel.COMMUNITY]:
        shown = _buildings(session, campaign, region)
        counts = many_counts(session, campaign, shown, the_day)
    else:
        shown = _child_regions(session, campaign, region)
        _mine, counts, _live = _counts(session, campaign, region, shown, the_day)
    features = []
    for r in shown:
        if r.geometry is None:
            continue
        f = figures_of(counts.get(r.id, {}), None)
        features.append(
            {
                "type": "Feature",
                "geometry": r.geometry,
                "properties": {
                    "id": r.id,
                    "name": r.name,
                    "level": r.level,
                    "residents": f.residents,
                    "reported": f.reported,
                    "abnormal": f.abnormal,
                    "report_rate": f.report_rate,
                    "lon": r.lon,
                    "lat": r.lat,
                },
            }
        )
    return {"type": "FeatureCollection", "features": features}


def _buildings(session: Session, campaign: Campaign, region: Region) -> list[Region]:
    lo, hi = campaign_span(campaign, region)
    return list(
        session.scalars(
            select(Region)
            .where(Region.path >= lo, Region.path < hi, Region.level == RegionLevel.BUILDING.value)
            .order_by(Region.path)
            .limit(MAX_MAP_BUILDINGS)
        )
    )


def many_counts(
    session: Session, campaign: Campaign, regions: Sequence[Region], day: date
) -> dict[int, dict[str, int]]:
    """Counts of many regions: the stored rows when built, else counted live."""
    if not regions:
        return {}
    if store.built(session, campaign.id) is not None:
        found = store.read_many(session, campaign.id, [r.id for r in regions], day)
        if len(found) == len(regions):
            return found
    spans = [sources.Span(r.id, *campaign_span(campaign, r)) for r in regions]
    return sources.ranges(session, campaign.id, day, spans)


# --- keeping the roll-up current --------------------------------------------------------------------------------


def refresh_after_report(session: Session, *, campaign_id: int, region_path: str, day: date) -> int:
    """The ``ReportReceived`` handler's work: recount the report's building and its ancestors."""
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        return 0
    return store.refresh(session, campaign, paths=[region_path], days=[day])


def rebuild(session: Session, *, campaign_id: int, missing_ok: bool = False) -> RollupBuild | None:
    """Recomputes a campaign's roll-up rows from the records (on publishing, daily, from the CLI).
    An unknown campaign is ``NotFound``, or None with ``missing_ok`` (a handler's late event)."""
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        if missing_ok:
            return None
        raise NotFound()
    return store.build(session, campaign)


def periodic(session: Session) -> int:
    """Every minute, for each running campaign: builds its roll-up when it has none (a campaign
    published before its handler ran), folds in the reaches, deliveries and finished tasks that
    came without a report, and checks the next slice of its rows against the records (people move,
    tasks are reopened: nothing drifts for long). Returns how many rows were built or recounted.
    Cheap when idle: a primary-key range per source, and one slice of a few thousand rows."""
    done = 0
    campaigns = session.scalars(select(Campaign).where(Campaign.status == CampaignStatus.PUBLISHED.value)).all()
    today = local_today()
    days = [today - timedelta(days=1), today]
    for campaign in campaigns:
        state = store.built(session, campaign.id)
        if state is None or state.scope_path != campaign.scope_path:
            done += store.build(session, campaign).rows
            continue
        done += store.catch_up(session, campaign, state)
        done += store.reconcile(session, campaign, state, days=days)
    return done


def install(session: Session) -> None:
    """Installs what this sub-package ships (idempotent); called by ``cityos db upgrade``.
    The roll-up rows are built when a campaign is first published or reported to; nothing ships."""
