"""HTML pages of emergency.command: the command dashboard (四级指挥大屏) with its 5-second live
fragment, and the list of the unreached; templates in web/templates/emergency/command/.

The dashboard shows the campaign picked (published first) at the region of the switcher, or the
one a drill-down link names; on a wall screen (``?wall=1``) it drops the chrome and grows."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from cityos.core.actor import Actor
from cityos.core.errors import DomainError, FieldError, Invalid
from cityos.core.http import DbSession
from cityos.core.i18n import N_
from cityos.core.pagination import PageParams
from cityos.core.settings import get_settings
from cityos.emergency.campaigns.kinds import TAG_TITLES
from cityos.emergency.campaigns.models import Campaign
from cityos.emergency.command import service
from cityos.places.models import LEVEL_DEPTH, RegionLevel
from cityos.places.service import level_label
from cityos.web.forms import field_errors
from cityos.web.shell import PageActor, current_region
from cityos.web.templating import render

router = APIRouter(include_in_schema=False)

LIST_ON_DASHBOARD = 10
PER_PAGE = 50
REFRESH_SECONDS = 5
STATUS_TITLES = {"published": N_("Running"), "closed": N_("Ended"), "draft": N_("Draft")}
MSG_DAY = N_("Must be a date like 2024-05-01.")
HELP_STATUS = {"open": N_("Waiting"), "escalated": N_("Escalated"), "answered": N_("Answered"), "closed": N_("Closed")}


def _localtime(moment: datetime) -> str:
    """A timestamp in the city's time, as people read it on a dashboard."""
    return moment.astimezone(ZoneInfo(get_settings().timezone)).strftime("%m-%d %H:%M:%S")


def _pick(campaigns: list[Campaign], campaign_id: int | None) -> Campaign | None:
    if campaign_id is None:
        return campaigns[0] if campaigns else None
    return next((c for c in campaigns if c.id == campaign_id), None)


def _region_id(
    request: Request, session: Session, actor: Actor, campaign: Campaign, region_id: int | None
) -> int | None:
    """The region asked for, else the switcher's when it lies in the campaign's area, else the default."""
    if region_id is not None:
        return region_id
    chosen = current_region(request, session, actor)
    if chosen is not None and (
        chosen.path.startswith(campaign.scope_path) or campaign.scope_path.startswith(chosen.path)
    ):
        if chosen.path.startswith(actor.scope_path):
            return chosen.id
    return None


def _live_context(
    session: Session, actor: Actor, campaign: Campaign, region_id: int | None, day: date | None, wall: bool
) -> dict[str, Any]:
    rollup = service.rollup(session, actor, campaign_id=campaign.id, region_id=region_id, day=day)
    region = rollup.region
    lists_people = region.figures.unreached > 0 and LEVEL_DEPTH[RegionLevel(region.level)] >= service.LIST_MIN_DEPTH
    unreached = (
        service.unreached(
            session,
            actor,
            campaign_id=campaign.id,
            region_id=region.id,
            params=PageParams(page=1, size=LIST_ON_DASHBOARD),
        )
        if lists_people
        else None
    )
    overdue = service.overdue_help(
        session, actor, campaign_id=campaign.id, region_id=region.id, limit=LIST_ON_DASHBOARD
    )
    chart = {
        "names": [c.name for c in rollup.children],
        "reported": [c.figures.reported for c in rollup.children],
        "not_reported": [c.figures.not_reported for c in rollup.children],
        "abnormal": [c.figures.abnormal for c in rollup.children],
    }
    return {
        "campaign": campaign,
        "rollup": rollup,
        "f": region.figures,
        "unreached": unreached,
        "overdue": overdue,
        "chart": chart,
        "wall": wall,
        "level_label": level_label,
        "tag_titles": TAG_TITLES,
        "help_status": HELP_STATUS,
        "refresh_seconds": REFRESH_SECONDS,
        "localtime": _localtime,
        "day_param": "" if day is None else day.isoformat(),
    }


@router.get("/emergency/command", response_class=HTMLResponse)
def dashboard(
    request: Request,
    session: DbSession,
    actor: PageActor,
    campaign_id: Annotated[int | None, Query(ge=1)] = None,
    region_id: Annotated[int | None, Query(ge=1)] = None,
    day: Annotated[str | None, Query(max_length=10)] = None,
    wall: Annotated[bool, Query()] = False,
) -> HTMLResponse:
    """四级指挥: KPI tiles, a bar chart per child region, the buildings' map by report rate, the
    unreached and overdue help, refreshed every 5 seconds; XLSX and PDF daily reports."""
    actor.require("campaign:read")
    campaigns = service.campaigns_for(session, actor)
    campaign = _pick(campaigns, campaign_id)
    context: dict[str, Any] = {
        "campaigns": campaigns,
        "campaign": campaign,
        "status_titles": STATUS_TITLES,
        "wall": wall,
        "errors": {},
        "day_value": day or "",
        "today": service.local_today().isoformat(),
    }
    if campaign_id is not None and campaign is None:
        service.get_campaign(session, actor, campaign_id)  # 404, as the API answers
    if campaign is None:
        return render(request, "emergency/command/dashboard.html", context)
    chosen = _region_id(request, session, actor, campaign, region_id)
    errors: dict[str, str] = {}
    try:
        the_day = _parse_day(day)
    except Invalid as exc:
        errors.update(field_errors(exc))
        the_day = None
    try:
        context.update(_live_context(session, actor, campaign, chosen, the_day, wall))
    except Invalid as exc:  # a future day, or a region outside the campaign: show the default instead
        errors.update(field_errors(exc))
        chosen = None if "region_id" in errors else chosen
        context.update(_live_context(session, actor, campaign, chosen, None if "day" in errors else the_day, wall))
    context["errors"] = errors
    if errors:
        return render(request, "emergency/command/dashboard.html", context, status_code=422)
    return render(request, "emergency/command/dashboard.html", context)


@router.get("/emergency/command/live", response_class=HTMLResponse)
def live(
    request: Request,
    session: DbSession,
    actor: PageActor,
    campaign_id: Annotated[int, Query(ge=1)],
    region_id: Annotated[int | None, Query(ge=1)] = None,
    day: Annotated[str | None, Query(max_length=10)] = None,
    wall: Annotated[bool, Query()] = False,
) -> HTMLResponse:
    """The dashboard's live part (figures, children, lists), polled every 5 seconds by HTMX."""
    campaign = service.get_campaign(session, actor, campaign_id)
    context = _live_context(session, actor, campaign, region_id, _parse_day(day), wall)
    return render(request, "emergency/command/_live.html", context)


@router.get("/emergency/command/unreached", response_class=HTMLResponse)
def unreached_page(
    request: Request,
    session: DbSession,
    actor: PageActor,
    campaign_id: Annotated[int, Query(ge=1)],
    region_id: Annotated[int | None, Query(ge=1)] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> HTMLResponse:
    """Everyone not yet reached in a street or smaller area, special groups first, for the phone
    calls and door knocks (names masked without ``person:read``, phones without ``pii:read``)."""
    campaign = service.get_campaign(session, actor, campaign_id)
    try:
        found = service.unreached(
            session, actor, campaign_id=campaign.id, region_id=region_id, params=PageParams(page=page, size=PER_PAGE)
        )
    except DomainError as exc:
        if not exc.details:
            raise
        return render(
            request,
            "emergency/command/unreached.html",
            {"campaign": campaign, "found": None, "errors": field_errors(exc), "tag_titles": TAG_TITLES},
            status_code=422,
        )
    pages = max(1, -(-found.total // PER_PAGE))
    return render(
        request,
        "emergency/command/unreached.html",
        {
            "campaign": campaign,
            "found": found,
            "errors": {},
            "pages": pages,
            "tag_titles": TAG_TITLES,
            "level_label": level_label,
        },
    )


def _parse_day(text: str | None) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise Invalid(details=[FieldError("day", MSG_DAY)]) from None
