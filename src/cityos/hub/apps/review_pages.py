"""The reviewers' pages (``/admin/apps``: the queue, one app with approve / reject / suspend /
resume / rate limit) and the residents' launcher of approved apps (``/apps``, 应用广场)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from cityos.core.actor import Actor
from cityos.core.errors import DomainError
from cityos.core.http import DbSession
from cityos.core.i18n import N_
from cityos.hub.apps import service
from cityos.hub.apps.models import AppStatus, LightApp
from cityos.identity.models import Account
from cityos.places.models import Region
from cityos.web.forms import refused
from cityos.web.shell import PageActor
from cityos.web.templating import render

router = APIRouter(include_in_schema=False)

NOTICES = {
    "approved": N_("Approved: the app's client is active. Its developer collects the secret on the portal."),
    "rejected": N_("Rejected: the developer sees your reason."),
    "suspended": N_("Suspended: the app's client is switched off."),
    "resumed": N_("Resumed: the app's client is active again."),
    "limit": N_("The rate limit is saved."),
}
REGION_LEVELS = ("city", "district", "street", "community", "grid")


def _common(**extra: Any) -> dict[str, Any]:
    from cityos.hub.apps.pages import common

    return common(**extra)


def _int(value: str | None) -> int:
    text = (value or "").strip()
    return int(text) if text.lstrip("-").isdigit() else -1


def _regions(session: Session, actor: Actor) -> list[Region]:
    """Where the reviewer may let an app act: their own region and the levels below it."""
    if actor.scope_region_id is None:
        return []
    top = session.get(Region, actor.scope_region_id)
    if top is None:
        return []
    below = session.scalars(
        select(Region)
        .where(actor.scope_clause(Region.path), Region.level.in_(REGION_LEVELS), Region.id != top.id)
        .order_by(Region.path)
        .limit(300)
    ).all()
    return [top, *below]


@router.get("/admin/apps", response_class=HTMLResponse)
def queue(
    request: Request,
    session: DbSession,
    actor: PageActor,
    status: Annotated[str, Query(max_length=16)] = "",
) -> HTMLResponse:
    shown = status if status in service.STATUS_TITLES else ""
    rows = service.review_queue(session, actor, status=shown or None)
    developers = {
        a.id: a.display_name
        for a in session.scalars(select(Account).where(Account.id.in_({r.developer_id for r in rows})))
    }
    return render(request, "hub/apps/review_queue.html", _common(apps=rows, status=shown, developers=developers))


def _review_page(
    request: Request,
    session: Session,
    actor: Actor,
    app: LightApp,
    *,
    notice: str | None = None,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    developer = session.get(Account, app.developer_id)
    region = session.get(Region, app.scope_region_id) if app.scope_region_id else None
    return render(
        request,
        "hub/apps/review_app.html",
        _common(
            app=app,
            developer=developer.display_name if developer else "",
            region=region,
            regions=_regions(session, actor),
            notice=NOTICES.get(notice or ""),
            errors=errors or {},
            values=values or {"scopes": list(app.requested_scopes or []), "rate_limit": app.rate_limit},
        ),
        status_code=status_code,
    )


@router.get("/admin/apps/{app_id}", response_class=HTMLResponse)
def review_app(app_id: int, request: Request, session: DbSession, actor: PageActor, notice: str = "") -> HTMLResponse:
    app = service.get_app(session, actor, app_id)
    actor.require("app:review")
    return _review_page(request, session, actor, app, notice=notice)


async def _posted(request: Request) -> tuple[dict[str, str], list[str]]:
    form = await request.form()
    return {k: str(v) for k, v in form.items() if isinstance(v, str)}, [
        str(v) for v in form.getlist("scopes") if isinstance(v, str)
    ]


@router.post("/admin/apps/{app_id}/{action}", response_class=HTMLResponse)
async def decide(app_id: int, action: str, request: Request, session: DbSession, actor: PageActor) -> Response:
    raw, scopes = await _posted(request)
    try:
        if action == "approve":
            service.approve(
                session,
                actor,
                app_id,
                scopes=scopes,
                region_id=_int(raw.get("region_id")),
                rate_limit=_int(raw.get("rate_limit")),
                note=raw.get("note") or None,
            )
            notice = "approved"
        elif action == "reject":
            service.reject(session, actor, app_id, reason=raw.get("reason", ""))
            notice = "rejected"
        elif action == "suspend":
            service.suspend(session, actor, app_id, reason=raw.get("reason", ""))
            notice = "suspended"
        elif action == "resume":
            service.resume(session, actor, app_id)
            notice = "resumed"
        elif action == "rate-limit":
            service.set_rate_limit(session, actor, app_id, rate_limit=_int(raw.get("rate_limit")))
            notice = "limit"
        else:
            return Response(status_code=404)
    except DomainError as exc:
        errors = refused(request, session, actor, exc)
        app = service.get_app(session, actor, app_id)
        values = {**raw, "scopes": scopes}
        return _review_page(request, session, actor, app, errors=errors, values=values, status_code=exc.status_code)
    return RedirectResponse(f"/admin/apps/{app_id}?notice={notice}", status_code=303)


@router.get("/apps", response_class=HTMLResponse)
def launcher(
    request: Request, session: DbSession, actor: PageActor, category: Annotated[str, Query(max_length=32)] = ""
) -> HTMLResponse:
    """Approved light apps for residents to open (应用广场)."""
    shown = category if category in service.CATEGORIES else ""
    rows = service.catalogue(session, actor, category=shown or None)
    return render(
        request,
        "hub/apps/launcher.html",
        _common(apps=rows, category=shown, approved=AppStatus.APPROVED),
    )
