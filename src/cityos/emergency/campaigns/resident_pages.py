"""The residents' phone pages, reached by the QR code on their building's door:
``/e/{campaign_id}/b/{building_id}`` (sign in by phone and one-time code, choose yourself or a
member of your household, answer the day's form; a late report for yesterday is allowed) and its
help page (求助: the request goes to the building lead, its answer is shown here), and
``/e/{campaign_id}/org`` where an enterprise's staff report with the organisation's code.

Large buttons and few words: many residents are elderly. No navigation bar, only the page.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from cityos.core.actor import Actor
from cityos.core.errors import DomainError
from cityos.core.http import DbSession
from cityos.emergency.campaigns import enterprises, forms, reports
from cityos.emergency.campaigns import help as helps
from cityos.emergency.campaigns import service as campaigns
from cityos.emergency.campaigns.models import Campaign, CampaignStatus
from cityos.emergency.campaigns.work_pages import first, multi
from cityos.identity.deps import OptionalActor
from cityos.places.models import Region
from cityos.web.forms import refused
from cityos.web.templating import render

router = APIRouter(include_in_schema=False)


def _public(session: Session, campaign_id: int, building_id: int | None = None) -> tuple[Campaign, Region | None]:
    campaign = enterprises.public_campaign(session, campaign_id)
    building = campaigns.building_of(session, campaign, building_id) if building_id is not None else None
    return campaign, building


def _building_page(
    request: Request,
    session: Session,
    actor: Actor,
    campaign: Campaign,
    building: Region,
    *,
    person_id: int | None = None,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    done: int | None = None,
    late: bool = False,
    status_code: int = 200,
) -> HTMLResponse:
    from cityos.emergency.campaigns.pages import common

    link = campaigns.report_link(campaign.id, building.id)
    context: dict[str, Any] = common(
        campaign=campaign,
        building=building,
        link=link,
        signed_in=actor.is_authenticated,
        members=[],
        chosen=None,
        fields=[],
        errors=errors or {},
        done=None,
        late=late,
        running=campaign.status == CampaignStatus.PUBLISHED,
        helps=[],
    )
    if actor.is_authenticated and actor.can("campaign:report") and campaign.status == CampaignStatus.PUBLISHED:
        members = reports.household(session, actor, campaign_id=campaign.id, building_id=building.id)
        context["members"] = members
        context["chosen"] = next((m for m in members if m.person_id == person_id), None)
        context["done"] = next((m for m in members if m.person_id == done), None)
        schema = campaigns.form_of(session, campaign).schema
        context["form_title"] = str(schema.get("title") or "")
        context["fields"] = forms.fields(schema, values or {})
        context["helps"] = helps.list_help(session, actor, campaign_id=campaign.id)
    return render(request, "emergency/campaigns/building.html", context, status_code=status_code)


@router.get("/e/{campaign_id}/b/{building_id}", response_class=HTMLResponse)
def building_page(
    campaign_id: int,
    building_id: int,
    request: Request,
    session: DbSession,
    actor: OptionalActor,
    person_id: Annotated[int | None, Query()] = None,
    done: Annotated[int | None, Query()] = None,
    late: int = 0,
) -> HTMLResponse:
    campaign, building = _public(session, campaign_id, building_id)
    assert building is not None
    return _building_page(request, session, actor, campaign, building, person_id=person_id, done=done, late=bool(late))


@router.post("/e/{campaign_id}/b/{building_id}", response_class=HTMLResponse)
async def building_report(
    campaign_id: int, building_id: int, request: Request, session: DbSession, actor: OptionalActor
) -> Response:
    raw = await multi(request)
    campaign, building = _public(session, campaign_id, building_id)
    assert building is not None
    if not actor.is_authenticated:
        return RedirectResponse(campaigns.report_link(campaign.id, building.id), status_code=303)
    schema = campaigns.form_of(session, campaign).schema
    values = forms.coerce(schema, raw)
    person = first(raw, "person_id")
    late = first(raw, "late") == "1"
    try:
        day = campaigns.local_day() - timedelta(days=1) if late else None
        reports.submit_report(
            session,
            actor,
            campaign_id=campaign.id,
            person_id=int(person) if person.isdigit() else 0,
            answers=values,
            day=day,
            building_id=building.id,
            channel="qr",
        )
    except DomainError as exc:
        errors = refused(request, session, actor, exc)
        campaign, building = _public(session, campaign_id, building_id)
        assert building is not None
        return _building_page(
            request,
            session,
            actor,
            campaign,
            building,
            person_id=int(person) if person.isdigit() else None,
            values=values,
            errors=errors,
            late=late,
            status_code=exc.status_code,
        )
    return RedirectResponse(f"{campaigns.report_link(campaign.id, building.id)}?done={person}", status_code=303)


def _help_page(
    request: Request,
    session: Session,
    actor: Actor,
    campaign: Campaign,
    building: Region,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    sent: bool = False,
    status_code: int = 200,
) -> HTMLResponse:
    from cityos.emergency.campaigns.pages import common

    members = (
        reports.household(session, actor, campaign_id=campaign.id, building_id=building.id)
        if actor.is_authenticated and actor.can("campaign:report")
        else []
    )
    return render(
        request,
        "emergency/campaigns/building_help.html",
        common(
            campaign=campaign,
            building=building,
            link=campaigns.report_link(campaign.id, building.id),
            signed_in=actor.is_authenticated,
            members=members,
            categories=[str(c) for c in campaign.settings.get("help_categories") or []],
            helps=helps.list_help(session, actor, campaign_id=campaign.id) if members else [],
            values=values or {},
            errors=errors or {},
            sent=sent,
        ),
        status_code=status_code,
    )


@router.get("/e/{campaign_id}/b/{building_id}/help", response_class=HTMLResponse)
def help_form(
    campaign_id: int, building_id: int, request: Request, session: DbSession, actor: OptionalActor, sent: int = 0
) -> HTMLResponse:
    campaign, building = _public(session, campaign_id, building_id)
    assert building is not None
    return _help_page(request, session, actor, campaign, building, sent=bool(sent))


@router.post("/e/{campaign_id}/b/{building_id}/help", response_class=HTMLResponse)
async def help_post(
    campaign_id: int, building_id: int, request: Request, session: DbSession, actor: OptionalActor
) -> Response:
    raw = await multi(request)
    campaign, building = _public(session, campaign_id, building_id)
    assert building is not None
    if not actor.is_authenticated:
        return RedirectResponse(campaigns.report_link(campaign.id, building.id), status_code=303)
    person = first(raw, "person_id")
    values = {k: first(raw, k) for k in ("category_code", "text", "person_id")}
    try:
        helps.request_help(
            session,
            actor,
            campaign_id=campaign.id,
            category_code=values["category_code"],
            text=values["text"],
            person_id=int(person) if person.isdigit() else None,
        )
    except DomainError as exc:
        errors = refused(request, session, actor, exc)
        campaign, building = _public(session, campaign_id, building_id)
        assert building is not None
        return _help_page(
            request, session, actor, campaign, building, values=values, errors=errors, status_code=exc.status_code
        )
    return RedirectResponse(f"{campaigns.report_link(campaign.id, building.id)}/help?sent=1", status_code=303)


# --- enterprises ------------------------------------------------------------------------------------------------


def _org_page(
    request: Request,
    session: Session,
    campaign: Campaign,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    sent: bool = False,
    status_code: int = 200,
) -> HTMLResponse:
    from cityos.emergency.campaigns.pages import common

    schema = campaigns.form_of(session, campaign).schema
    values = values or {}
    return render(
        request,
        "emergency/campaigns/org.html",
        common(
            campaign=campaign,
            fields=forms.fields(schema, values),
            form_title=str(schema.get("title") or ""),
            values=values,
            errors=errors or {},
            sent=sent,
            running=campaign.status == CampaignStatus.PUBLISHED,
        ),
        status_code=status_code,
    )


@router.get("/e/{campaign_id}/org", response_class=HTMLResponse)
def org_form(campaign_id: int, request: Request, session: DbSession, sent: int = 0) -> HTMLResponse:
    campaign, _ = _public(session, campaign_id)
    return _org_page(request, session, campaign, sent=bool(sent))


@router.post("/e/{campaign_id}/org", response_class=HTMLResponse)
async def org_post(campaign_id: int, request: Request, session: DbSession, actor: OptionalActor) -> Response:
    raw = await multi(request)
    campaign, _ = _public(session, campaign_id)
    schema = campaigns.form_of(session, campaign).schema
    answers = forms.coerce(schema, raw)
    person = {k: first(raw, k) for k in ("org_code", "name", "phone")}
    try:
        enterprises.submit(
            session,
            campaign_id=campaign.id,
            org_code=person["org_code"],
            name=person["name"],
            phone=person["phone"],
            answers=answers,
            ip=request.client.host if request.client else None,
        )
    except DomainError as exc:
        errors = refused(request, session, actor, exc)
        campaign, _ = _public(session, campaign_id)
        return _org_page(
            request, session, campaign, values={**answers, **person}, errors=errors, status_code=exc.status_code
        )
    return RedirectResponse(f"/e/{campaign.id}/org?sent=1", status_code=303)
