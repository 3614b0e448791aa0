"""HTML pages of emergency.campaigns; templates in web/templates/emergency/campaigns/.

This file holds the campaign pages of the staff: ``/emergency`` (the list, a campaign from a
template in one step), ``/emergency/campaigns/{id}`` (overview with roll-up, publish, close and
the lists) and the printable building QR codes. The form builder, the workers' pages (tasks,
door-to-door checks, reports, help requests) and the residents' phone pages are in
``form_pages``, ``work_pages`` and ``resident_pages``, included here.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from cityos.core.actor import Actor
from cityos.core.errors import DomainError
from cityos.core.http import DbSession
from cityos.core.i18n import N_
from cityos.emergency.campaigns import (
    enterprises,
    form_pages,
    groups,
    kinds,
    reports,
    resident_pages,
    supplies,
    work_pages,
)
from cityos.emergency.campaigns import help as helps
from cityos.emergency.campaigns import service as campaigns
from cityos.emergency.campaigns.models import Campaign, CampaignStatus
from cityos.places.models import LEVELS, Region
from cityos.web.forms import refused
from cityos.web.shell import PageActor
from cityos.web.templating import render

router = APIRouter(include_in_schema=False)
router.include_router(form_pages.router)
router.include_router(work_pages.router)
router.include_router(resident_pages.router)

STATUS_TITLES = {
    CampaignStatus.DRAFT: N_("Draft"),
    CampaignStatus.PUBLISHED: N_("Running"),
    CampaignStatus.CLOSED: N_("Ended"),
}
HELP_STATUS_TITLES = {
    "open": N_("Waiting for an answer"),
    "answered": N_("Answered"),
    "escalated": N_("Escalated"),
    "closed": N_("Helped"),
}
LISTS = {
    "not_reported": N_("Not reported"),
    "abnormal": N_("Abnormal reports"),
    "key_group": N_("Key groups"),
    "special": N_("Special groups"),
    "help": N_("Help requests"),
    "organisations": N_("Enterprises"),
    "supplies": N_("Supplies"),
}


def when(moment: datetime | None) -> str:
    return moment.astimezone(campaigns.city_zone()).strftime("%m-%d %H:%M") if moment else ""


def common(**extra: Any) -> dict[str, Any]:
    """What every campaigns template uses."""
    return {
        "when": when,
        "status_titles": STATUS_TITLES,
        "help_status_titles": HELP_STATUS_TITLES,
        "tag_titles": kinds.TAG_TITLES,
        "task_titles": kinds.TASK_TITLES,
        "help_titles": kinds.HELP_TITLES,
        **extra,
    }


def _scope_choices(session: Session, actor: Actor, request: Request) -> list[Region]:
    """Where a campaign may be put: the current region and its children (down to buildings)."""
    current = getattr(request.state, "current_region", None)
    region = session.get(Region, current.id) if current is not None else None
    if region is None and actor.scope_region_id is not None:
        region = session.get(Region, actor.scope_region_id)
    if region is None or region.level not in campaigns.SCOPE_LEVELS:
        return []
    children = session.scalars(
        select(Region)
        .where(Region.parent_id == region.id, Region.level.in_(campaigns.SCOPE_LEVELS))
        .order_by(Region.code)
        .limit(300)
    ).all()
    return [region, *children]


def _list_page(
    request: Request,
    session: Session,
    actor: Actor,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    rows = campaigns.list_campaigns(session, actor)
    scopes = {
        r.id: r.name for r in session.scalars(select(Region).where(Region.id.in_({c.scope_region_id for c in rows})))
    }
    return render(
        request,
        "emergency/campaigns/list.html",
        common(
            campaigns=rows,
            scope_names=scopes,
            templates=campaigns.templates(session),
            scope_choices=_scope_choices(session, actor, request) if actor.can("campaign:manage") else [],
            level_rank={lv.value: n for n, lv in enumerate(LEVELS)},
            values=values or {},
            errors=errors or {},
            can_manage=actor.can("campaign:manage"),
        ),
        status_code=status_code,
    )


@router.get("/emergency", response_class=HTMLResponse)
def campaign_list(request: Request, session: DbSession, actor: PageActor) -> HTMLResponse:
    return _list_page(request, session, actor)


async def posted(request: Request) -> dict[str, str]:
    form = await request.form()
    return {k: str(v) for k, v in form.items() if isinstance(v, str)}


@router.post("/emergency/campaigns", response_class=HTMLResponse)
async def create_campaign(request: Request, session: DbSession, actor: PageActor) -> Response:
    raw = await posted(request)
    scope = raw.get("scope_region_id", "")
    try:
        campaign = campaigns.create_from_template(
            session,
            actor,
            template=raw.get("template", ""),
            scope_region_id=int(scope) if scope.isdigit() else 0,
            title=raw.get("title") or None,
        )
    except DomainError as exc:
        errors = refused(request, session, actor, exc)
        return _list_page(request, session, actor, values=raw, errors=errors, status_code=exc.status_code)
    return RedirectResponse(f"/emergency/campaigns/{campaign.id}?created=1", status_code=303)


def _day_of(value: str, fallback: date) -> date:
    try:
        return date.fromisoformat(value) if value else fallback
    except ValueError:
        return fallback


def _rollup(session: Session, actor: Actor, campaign: Campaign, region_id: int | None, day: date) -> Any:
    if not actor.can("campaign:read"):
        return None
    from cityos.emergency.command import service as command

    try:
        return command.rollup(session, actor, campaign_id=campaign.id, region_id=region_id, day=day)
    except DomainError:
        return None


def _list(session: Session, actor: Actor, campaign: Campaign, name: str, day: date, region_id: int | None) -> Any:
    if campaign.status == CampaignStatus.DRAFT:
        return None
    if name == "not_reported":
        return groups.not_reported(session, actor, campaign_id=campaign.id, day=day, region_id=region_id)
    if name == "abnormal":
        lines, _ = reports.list_reports(
            session, actor, campaign_id=campaign.id, day=day, region_id=region_id, abnormal_only=True
        )
        return lines
    if name == "key_group":
        return groups.key_group(session, actor, campaign_id=campaign.id, day=day, region_id=region_id)
    if name == "special":
        return groups.special_groups(session, actor, campaign_id=campaign.id, day=day, region_id=region_id)
    if name == "help":
        return helps.list_help(session, actor, campaign_id=campaign.id, region_id=region_id)
    if name == "organisations":
        return enterprises.rollup(session, actor, campaign_id=campaign.id, day=day, region_id=region_id)
    return supplies.households(session, actor, campaign_id=campaign.id, region_id=region_id, unserved_only=True)


@router.get("/emergency/campaigns/{campaign_id}", response_class=HTMLResponse)
def campaign_page(
    campaign_id: int,
    request: Request,
    session: DbSession,
    actor: PageActor,
    show: Annotated[str, Query(alias="list", max_length=16)] = "not_reported",
    day: Annotated[str, Query(max_length=10)] = "",
    region_id: Annotated[int | None, Query()] = None,
    created: int = 0,
    published: int = 0,
) -> HTMLResponse:
    campaign = campaigns.get_campaign(session, actor, campaign_id)
    campaigns.require_any(actor, campaigns.READ_PERMS)
    today = campaigns.local_day()
    the_day = _day_of(day, today)
    name = show if show in LISTS else "not_reported"
    if region_id is not None:
        campaigns.area(session, actor, campaign, region_id)  # 404 outside
    notice = (
        N_("The campaign is ready as a draft: check its form, then publish it.")
        if created
        else N_("Published: tasks are out and everyone in the area has been told.")
        if published
        else None
    )
    scope = session.get(Region, campaign.scope_region_id)
    return render(
        request,
        "emergency/campaigns/overview.html",
        common(
            campaign=campaign,
            scope=scope,
            template_title=campaigns.template_title(campaign.template_key, session),
            rollup=_rollup(session, actor, campaign, region_id, the_day),
            lists=LISTS,
            show=name,
            rows=_list(session, actor, campaign, name, the_day, region_id),
            day=the_day,
            today=today,
            yesterday=today - timedelta(days=1),
            region_id=region_id,
            can_manage=actor.can("campaign:manage", region=campaign.scope_path),
            items={i.code: i for i in supplies.items(session, actor, campaign_id=campaign.id)},
            notice=notice,
            slots=(groups.AM, groups.PM),
        ),
    )


@router.post("/emergency/campaigns/{campaign_id}/publish", response_class=HTMLResponse)
def publish(campaign_id: int, session: DbSession, actor: PageActor) -> Response:
    campaigns.publish(session, actor, campaign_id=campaign_id)
    return RedirectResponse(f"/emergency/campaigns/{campaign_id}?published=1", status_code=303)


@router.post("/emergency/campaigns/{campaign_id}/close", response_class=HTMLResponse)
def close(campaign_id: int, session: DbSession, actor: PageActor) -> Response:
    campaigns.close(session, actor, campaign_id=campaign_id)
    return RedirectResponse(f"/emergency/campaigns/{campaign_id}", status_code=303)


@router.get("/emergency/campaigns/{campaign_id}/qr", response_class=HTMLResponse)
def qr_codes(
    campaign_id: int,
    request: Request,
    session: DbSession,
    actor: PageActor,
    region_id: Annotated[int | None, Query()] = None,
) -> HTMLResponse:
    """Printable QR codes, one per building (张贴在楼栋门口), and the enterprises' link."""
    campaign = campaigns.get_campaign(session, actor, campaign_id)
    campaigns.require_any(actor, campaigns.READ_PERMS)
    base = str(request.base_url).rstrip("/")
    rows = campaigns.buildings(session, actor, campaign_id=campaign.id, region_id=region_id)
    from cityos.people.residences import addresses

    names = addresses(session, rows)
    codes = [
        (
            b,
            names.get(b.id, b.name),
            base + campaigns.report_link(campaign.id, b.id),
            campaigns.building_qr_svg(campaign.id, b.id, base_url=base),
        )
        for b in rows[:500]
    ]
    org_url = f"{base}/e/{campaign.id}/org"
    import segno

    org_svg = str(segno.make(org_url, error="m").svg_inline(scale=4, dark="#1d2330", title="QR"))
    return render(
        request,
        "emergency/campaigns/qr.html",
        common(campaign=campaign, codes=codes, more=max(0, len(rows) - 500), org_url=org_url, org_svg=org_svg),
    )
