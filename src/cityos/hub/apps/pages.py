"""HTML pages of the open platform: the developer portal (``/developer``: my apps, register, keys
shown once, webhooks, the delivery log, usage). The reviewers' pages (``/admin/apps``) and the
residents' launcher (``/apps``) are in ``review_pages``, included here. Templates in
web/templates/hub/apps/."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, File, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from cityos.core.actor import Actor
from cityos.core.errors import DomainError
from cityos.core.http import DbSession
from cityos.core.i18n import N_
from cityos.core.settings import get_settings
from cityos.hub.apps import review_pages, service, webhooks
from cityos.hub.apps.models import AppStatus, LightApp
from cityos.identity.permissions import CLIENT_GRANTABLE, PERMISSIONS
from cityos.web.forms import refused
from cityos.web.shell import PageActor
from cityos.web.templating import render

router = APIRouter(include_in_schema=False)
router.include_router(review_pages.router)

NOTICES = {
    "created": N_("The app is saved as a draft. Submit it for review when it is ready."),
    "saved": N_("Saved."),
    "submitted": N_("Submitted: a reviewer will look at it soon."),
    "icon": N_("The icon is saved."),
    "deleted": N_("The webhook is deleted."),
    "redelivered": N_("The delivery is queued again."),
}


def when(moment: datetime | None) -> str:
    """A moment in the city's time zone."""
    return moment.astimezone(ZoneInfo(get_settings().timezone)).strftime("%Y-%m-%d %H:%M") if moment else ""


def common(**extra: Any) -> dict[str, Any]:
    """What every template of this part uses."""
    return {
        "when": when,
        "categories": service.CATEGORIES,
        "status_titles": service.STATUS_TITLES,
        "delivery_titles": service.DELIVERY_TITLES,
        "grantable": sorted(CLIENT_GRANTABLE),
        "scope_titles": {p: PERMISSIONS.get(p, p) for p in CLIENT_GRANTABLE},
        "topics": webhooks.TOPICS,
        **extra,
    }


async def posted(request: Request) -> tuple[dict[str, str], dict[str, list[str]]]:
    """The form's single values and its multi-valued fields (check boxes)."""
    form = await request.form()
    single = {k: str(v) for k, v in form.items() if isinstance(v, str)}
    multi = {k: [str(v) for v in form.getlist(k) if isinstance(v, str)] for k in form}
    return single, multi


def _input(raw: dict[str, str], multi: dict[str, list[str]]) -> service.AppInput:
    return service.AppInput(
        name=raw.get("name", ""),
        description=raw.get("description", ""),
        category=raw.get("category", ""),
        emoji=raw.get("emoji", ""),
        homepage_url=raw.get("homepage_url", ""),
        entry_url=raw.get("entry_url", ""),
        requested_scopes=multi.get("requested_scopes", []),
    )


def _portal(
    request: Request,
    session: Session,
    actor: Actor,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    rows = service.my_apps(session, actor)
    return render(
        request,
        "hub/apps/portal.html",
        common(apps=rows, values=values or {"requested_scopes": []}, errors=errors or {}),
        status_code=status_code,
    )


@router.get("/developer", response_class=HTMLResponse)
def portal(request: Request, session: DbSession, actor: PageActor) -> HTMLResponse:
    return _portal(request, session, actor)


@router.post("/developer/apps", response_class=HTMLResponse)
async def register(request: Request, session: DbSession, actor: PageActor) -> Response:
    raw, multi = await posted(request)
    try:
        app = service.create_app(session, actor, _input(raw, multi))
    except DomainError as exc:
        errors = refused(request, session, actor, exc)
        values: dict[str, Any] = {**raw, "requested_scopes": multi.get("requested_scopes", [])}
        return _portal(request, session, actor, values=values, errors=errors, status_code=exc.status_code)
    return RedirectResponse(f"/developer/apps/{app.id}?notice=created", status_code=303)


def _app_page(
    request: Request,
    session: Session,
    actor: Actor,
    app: LightApp,
    *,
    notice: str | None = None,
    errors: dict[str, str] | None = None,
    hook_errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    usage = service.usage(session, actor, app.id, days=14)
    return render(
        request,
        "hub/apps/app.html",
        common(
            app=app,
            notice=NOTICES.get(notice or ""),
            errors=errors or {},
            hook_errors=hook_errors or {},
            values=values or {},
            editable=app.status != AppStatus.SUBMITTED,
            hooks=webhooks.webhooks(session, actor, app.id),
            deliveries=webhooks.deliveries(session, actor, app.id, limit=50),
            usage=usage,
            usage_chart={
                "days": [d.strftime("%m-%d") for d, _r, _n in usage],
                "requests": [r for _d, r, _n in usage],
                "limited": [n for _d, _r, n in usage],
            },
        ),
        status_code=status_code,
    )


@router.get("/developer/apps/{app_id}", response_class=HTMLResponse)
def app_page(app_id: int, request: Request, session: DbSession, actor: PageActor, notice: str = "") -> HTMLResponse:
    app = service.get_own(session, actor, app_id)
    return _app_page(request, session, actor, app, notice=notice)


@router.post("/developer/apps/{app_id}", response_class=HTMLResponse)
async def edit(app_id: int, request: Request, session: DbSession, actor: PageActor) -> Response:
    raw, multi = await posted(request)
    data = _input(raw, multi)
    app = service.get_own(session, actor, app_id)
    if app.status in (AppStatus.APPROVED, AppStatus.SUSPENDED):
        data.requested_scopes = None  # scopes change only through a new review
    try:
        service.update_app(session, actor, app_id, data)
    except DomainError as exc:
        errors = refused(request, session, actor, exc)
        app = service.get_own(session, actor, app_id)
        return _app_page(request, session, actor, app, errors=errors, values=raw, status_code=exc.status_code)
    return RedirectResponse(f"/developer/apps/{app_id}?notice=saved", status_code=303)


@router.post("/developer/apps/{app_id}/submit", response_class=HTMLResponse)
def submit(app_id: int, session: DbSession, actor: PageActor) -> Response:
    service.submit(session, actor, app_id)
    return RedirectResponse(f"/developer/apps/{app_id}?notice=submitted", status_code=303)


@router.post("/developer/apps/{app_id}/icon", response_class=HTMLResponse)
async def icon(
    app_id: int, request: Request, session: DbSession, actor: PageActor, icon: UploadFile = File(...)
) -> Response:
    content = await icon.read(service.ICON_MAX_BYTES + 1)
    try:
        service.set_icon(session, actor, app_id, content)
    except DomainError as exc:
        errors = refused(request, session, actor, exc)
        app = service.get_own(session, actor, app_id)
        return _app_page(request, session, actor, app, errors=errors, status_code=exc.status_code)
    return RedirectResponse(f"/developer/apps/{app_id}?notice=icon", status_code=303)


def _keys(request: Request, app: LightApp, secret: str, *, rotated: bool) -> HTMLResponse:
    base = str(request.base_url).rstrip("/")
    return render(
        request,
        "hub/apps/keys.html",
        common(app=app, secret=secret, rotated=rotated, token_url=f"{base}/api/v1/oauth/token", base=base),
    )


@router.post("/developer/apps/{app_id}/keys", response_class=HTMLResponse)
def collect_keys(app_id: int, request: Request, session: DbSession, actor: PageActor) -> HTMLResponse:
    app, secret = service.collect_secret(session, actor, app_id)
    return _keys(request, app, secret, rotated=False)


@router.post("/developer/apps/{app_id}/secret", response_class=HTMLResponse)
def rotate(app_id: int, request: Request, session: DbSession, actor: PageActor) -> HTMLResponse:
    app, secret = service.rotate_secret(session, actor, app_id)
    return _keys(request, app, secret, rotated=True)


@router.post("/developer/apps/{app_id}/webhooks", response_class=HTMLResponse)
async def add_webhook(app_id: int, request: Request, session: DbSession, actor: PageActor) -> Response:
    raw, multi = await posted(request)
    try:
        hook, secret = webhooks.create_webhook(
            session, actor, app_id, url=raw.get("url", ""), topics=multi.get("topics", []), secret=raw.get("secret")
        )
    except DomainError as exc:
        errors = refused(request, session, actor, exc)
        app = service.get_own(session, actor, app_id)
        values = {"hook_url": raw.get("url", ""), "hook_topics": multi.get("topics", [])}
        return _app_page(request, session, actor, app, hook_errors=errors, values=values, status_code=exc.status_code)
    app = service.get_own(session, actor, app_id)
    return render(request, "hub/apps/webhook_secret.html", common(app=app, hook=hook, secret=secret))


@router.post("/developer/apps/{app_id}/webhooks/{webhook_id}/delete", response_class=HTMLResponse)
def delete_webhook(app_id: int, webhook_id: int, session: DbSession, actor: PageActor) -> Response:
    webhooks.delete_webhook(session, actor, app_id, webhook_id)
    return RedirectResponse(f"/developer/apps/{app_id}?notice=deleted", status_code=303)


@router.post("/developer/apps/{app_id}/deliveries/{delivery_id}/redeliver", response_class=HTMLResponse)
def redeliver(app_id: int, delivery_id: int, session: DbSession, actor: PageActor) -> Response:
    webhooks.redeliver(session, actor, app_id, delivery_id)
    return RedirectResponse(f"/developer/apps/{app_id}?notice=redelivered#deliveries", status_code=303)


@router.get("/developer/apps/{app_id}/icon")
def icon_file(app_id: int, session: DbSession, actor: PageActor) -> Response:
    content, media_type = service.icon_of(session, actor, app_id)
    return Response(content, media_type=media_type, headers={"Cache-Control": "private, max-age=300"})
