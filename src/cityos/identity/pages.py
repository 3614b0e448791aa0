"""HTML pages of identity: sign-in (staff password, resident one-time code), sign-out, and the
administration pages for accounts, OAuth2 clients, the audit log and the SMS outbox."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from cityos.core.actor import Actor
from cityos.core.errors import DomainError
from cityos.core.http import DbSession
from cityos.core.i18n import N_, translate
from cityos.core.pagination import PageParams
from cityos.core.settings import get_settings
from cityos.identity import accounts, service
from cityos.identity.deps import CurrentActor, OptionalActor
from cityos.identity.models import Account
from cityos.identity.permissions import CLIENT_GRANTABLE, PERMISSIONS, ROLES, Role
from cityos.places.models import Region
from cityos.web.forms import refused
from cityos.web.shell import PageActor
from cityos.web.templating import render

router = APIRouter(include_in_schema=False)

PER_PAGE = 50

ROLE_LABELS: dict[str, str] = {
    Role.RESIDENT: N_("Resident"),
    Role.GRID_WORKER: N_("Grid worker"),
    Role.DEPARTMENT_STAFF: N_("Department staff"),
    Role.DISPATCHER: N_("Dispatcher"),
    Role.COMMANDER: N_("Commander"),
    Role.PROPERTY_MANAGER: N_("Property manager"),
    Role.MERCHANT: N_("Merchant"),
    Role.WINDOW_CLERK: N_("Service window clerk"),
    Role.COMMUNITY_STAFF: N_("Community worker"),
    Role.STREET_OBSERVER: N_("Street observer"),
    Role.VOLUNTEER: N_("Volunteer"),
    Role.DATA_OFFICER: N_("Data officer"),
    Role.DEVELOPER: N_("Developer"),
    Role.TRAFFIC_OPERATOR: N_("Traffic operator"),
    Role.APP_CLIENT: N_("Third-party app"),
    Role.ADMIN: N_("Administrator"),
}


def _safe_next(value: str | None) -> str:
    # Only local paths: a sign-in link must not become an open redirect.
    if not value or not value.startswith("/") or value.startswith("//") or value.startswith("/\\"):
        return "/"
    return value


def _ip(request: Request) -> str | None:
    return request.client.host if request.client else None


def _signed_in(session: Session, account: Account, target: str) -> RedirectResponse:
    token, max_age = service.issue_session(session, account)
    response = RedirectResponse(target, status_code=303)
    settings = get_settings()
    response.set_cookie(
        settings.session_cookie_name,
        token,
        max_age=max_age,
        httponly=True,
        samesite="lax",
        secure=settings.cookie_secure,
    )
    return response


def _signin_page(request: Request, context: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    base = {"tab": "staff", "next": "/", "username": "", "phone": "", "error": None, "code_sent": False}
    base.update(context)
    base["dev_outbox"] = get_settings().sms_sender == "outbox"
    return render(request, "identity/signin.html", base, status_code=status_code)


@router.get("/signin", response_class=HTMLResponse)
def signin_form(
    request: Request,
    actor: OptionalActor,
    tab: Annotated[str, Query(max_length=16)] = "staff",
    next: Annotated[str, Query(max_length=512)] = "/",
) -> Response:
    if actor.is_authenticated:
        return RedirectResponse(_safe_next(next), status_code=303)
    return _signin_page(request, {"tab": "resident" if tab == "resident" else "staff", "next": _safe_next(next)})


@router.post("/signin", response_class=HTMLResponse)
def signin_password(
    request: Request,
    session: DbSession,
    username: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=256)] = "",
    next: Annotated[str, Form(max_length=512)] = "/",
) -> Response:
    target = _safe_next(next)
    result = service.sign_in_password(session, username=username, password=password, ip=_ip(request))
    if result.account is None:
        # Rendered, not raised: the failure counter and audit row are committed with the page.
        context = {"tab": "staff", "next": target, "username": username, "error": result.text()}
        return _signin_page(request, context, status_code=result.status)
    return _signed_in(session, result.account, target)


@router.post("/signin/code", response_class=HTMLResponse)
def signin_request_code(
    request: Request,
    session: DbSession,
    phone: Annotated[str, Form(max_length=20)] = "",
    next: Annotated[str, Form(max_length=512)] = "/",
) -> Response:
    target = _safe_next(next)
    context: dict[str, Any] = {"tab": "resident", "next": target, "phone": phone}
    try:
        limited = service.request_code(session, phone=phone, ip=_ip(request))
    except DomainError as exc:
        if not exc.details:
            raise
        detail = exc.details[0]
        return _signin_page(request, {**context, "error": translate(detail.message, **detail.params)}, 422)
    if limited is not None:
        return _signin_page(request, {**context, "error": limited.text()}, limited.status)
    return _signin_page(request, {**context, "code_sent": True})


@router.post("/signin/verify", response_class=HTMLResponse)
def signin_verify_code(
    request: Request,
    session: DbSession,
    phone: Annotated[str, Form(max_length=20)] = "",
    code: Annotated[str, Form(max_length=12)] = "",
    next: Annotated[str, Form(max_length=512)] = "/",
) -> Response:
    target = _safe_next(next)
    context: dict[str, Any] = {"tab": "resident", "next": target, "phone": phone, "code_sent": True}
    try:
        result = service.sign_in_code(session, phone=phone, code=code, ip=_ip(request))
    except DomainError as exc:
        if not exc.details:
            raise
        detail = exc.details[0]
        return _signin_page(request, {**context, "error": translate(detail.message, **detail.params)}, 422)
    if result.account is None:
        return _signin_page(request, {**context, "error": result.text()}, result.status)
    return _signed_in(session, result.account, "/me" if target == "/" else target)


@router.post("/signout")
def signout(request: Request, session: DbSession) -> Response:
    settings = get_settings()
    token = request.cookies.get(settings.session_cookie_name)
    if token:
        try:
            service.revoke(session, token, expect="session")
        except DomainError:
            pass  # an expired or forged cookie: there is nothing to end, only to clear
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(settings.session_cookie_name)
    return response


# --- administration ----------------------------------------------------------------------------------


def _grantable_roles(actor: Actor) -> list[str]:
    return [r for r in ROLES if r != Role.APP_CLIENT and not accounts.role_errors(actor, [r])]


def _scope_regions(session: Session, actor: Actor) -> list[Region]:
    """Regions an account can be scoped to from here: the actor's scope and two levels below."""
    if actor.scope_region_id is None:
        return []
    root = session.get(Region, actor.scope_region_id)
    if root is None:
        return []
    rows = session.scalars(
        select(Region)
        .where(actor.scope_clause(Region.path), Region.depth <= root.depth + 2)
        .order_by(Region.path)
        .limit(500)
    )
    return list(rows)


def _accounts_page(
    request: Request,
    session: Session,
    actor: Actor,
    *,
    q: str,
    role: str,
    page: int,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    rows, total = accounts.list_accounts(
        session, actor, PageParams(page=page, size=PER_PAGE), q=q or None, role=role if role in ROLES else None
    )
    regions = {
        r.id: r.name for r in session.scalars(select(Region).where(Region.id.in_({a.scope_region_id for a in rows})))
    }
    return render(
        request,
        "identity/accounts.html",
        {
            "accounts": rows,
            "roles_of": accounts.roles_of(session, [a.id for a in rows]),
            "region_names": regions,
            "total": total or 0,
            "page": page,
            "pages": max(1, -(-(total or 0) // PER_PAGE)),
            "q": q,
            "role": role,
            "role_labels": ROLE_LABELS,
            "grantable": _grantable_roles(actor),
            "scope_regions": _scope_regions(session, actor) if actor.can("account:write") else [],
            "can_write": actor.can("account:write"),
            "errors": errors or {},
            "values": values or {},
            "notice": notice,
            "self_id": actor.account_id,
        },
        status_code=status_code,
    )


@router.get("/admin/accounts", response_class=HTMLResponse)
def accounts_page(
    request: Request,
    session: DbSession,
    actor: PageActor,
    q: Annotated[str, Query(max_length=64)] = "",
    role: Annotated[str, Query(max_length=32)] = "",
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
    done: Annotated[str, Query(max_length=32)] = "",
) -> HTMLResponse:
    notice = {"created": N_("The account has been created."), "changed": N_("The account has been changed.")}.get(done)
    return _accounts_page(request, session, actor, q=q, role=role, page=page, notice=notice)


@router.post("/admin/accounts", response_class=HTMLResponse)
def create_account(
    request: Request,
    session: DbSession,
    actor: PageActor,
    username: Annotated[str, Form(max_length=64)] = "",
    display_name: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=256)] = "",
    phone: Annotated[str, Form(max_length=20)] = "",
    scope_region_id: Annotated[str, Form(max_length=16)] = "",
    roles: Annotated[list[str] | None, Form()] = None,
) -> Response:
    values = {
        "username": username,
        "display_name": display_name,
        "phone": phone,
        "scope_region_id": scope_region_id,
        "roles": roles or [],
    }
    try:
        accounts.create_account(
            session,
            actor,
            username=username or None,
            display_name=display_name,
            roles=roles or [],
            scope_region_id=int(scope_region_id) if scope_region_id.isdigit() else -1,
            password=password or None,
            phone=phone or None,
        )
    except DomainError as exc:
        errors = refused(request, session, actor, exc)
        return _accounts_page(
            request, session, actor, q="", role="", page=1, errors=errors, values=values, status_code=exc.status_code
        )
    return RedirectResponse("/admin/accounts?done=created", status_code=303)


@router.post("/admin/accounts/{account_id}/roles")
def grant_role(
    account_id: int, session: DbSession, actor: CurrentActor, role: Annotated[str, Form(max_length=32)] = ""
) -> Response:
    accounts.grant_role(session, actor, account_id=account_id, role=role)
    return RedirectResponse("/admin/accounts?done=changed", status_code=303)


@router.post("/admin/accounts/{account_id}/roles/{role}/remove")
def revoke_role(account_id: int, role: str, session: DbSession, actor: CurrentActor) -> Response:
    accounts.revoke_role(session, actor, account_id=account_id, role=role)
    return RedirectResponse("/admin/accounts?done=changed", status_code=303)


@router.post("/admin/accounts/{account_id}/active")
def set_active(
    account_id: int, session: DbSession, actor: CurrentActor, active: Annotated[str, Form(max_length=1)] = "0"
) -> Response:
    accounts.update_account(session, actor, account_id=account_id, active=active == "1")
    return RedirectResponse("/admin/accounts?done=changed", status_code=303)


def _parse_day(value: str) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


@router.get("/admin/audit", response_class=HTMLResponse)
def audit_page(
    request: Request,
    session: DbSession,
    actor: PageActor,
    action: Annotated[str, Query(max_length=64)] = "",
    outcome: Annotated[str, Query(max_length=16)] = "",
    q: Annotated[str, Query(max_length=64)] = "",
    since: Annotated[str, Query(max_length=10)] = "",
    until: Annotated[str, Query(max_length=10)] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> HTMLResponse:
    """The audit log with filters; days are the city's calendar days."""
    zone = ZoneInfo(get_settings().timezone)
    first, last = _parse_day(since), _parse_day(until)
    filters = accounts.AuditFilter(
        action=action or None,
        outcome=outcome or None,
        q=q or None,
        since=datetime.combine(first, time.min, zone) if first else None,
        until=datetime.combine(last + timedelta(days=1), time.min, zone) if last else None,
    )
    rows, total = accounts.search_audit(session, actor, PageParams(page=page, size=PER_PAGE), filters)
    context = {
        "records": rows,
        "zone": zone,
        "total": total or 0,
        "page": page,
        "pages": max(1, -(-(total or 0) // PER_PAGE)),
        "action": action,
        "outcome": outcome,
        "q": q,
        "since": since,
        "until": until,
        "actions": accounts.audit_actions(session, actor),
        "bad_dates": bool((since and first is None) or (until and last is None)),
    }
    template = "identity/_audit_table.html" if request.headers.get("hx-request") else "identity/audit.html"
    return render(request, template, context)


@router.get("/admin/sms", response_class=HTMLResponse)
def sms_page(
    request: Request, session: DbSession, actor: PageActor, page: Annotated[int, Query(ge=1, le=100_000)] = 1
) -> HTMLResponse:
    rows, total = accounts.list_sms(session, actor, PageParams(page=page, size=PER_PAGE))
    return render(
        request,
        "identity/sms.html",
        {
            "messages": rows,
            "total": total or 0,
            "page": page,
            "pages": max(1, -(-(total or 0) // PER_PAGE)),
            "zone": ZoneInfo(get_settings().timezone),
        },
    )


def _clients_page(
    request: Request,
    session: Session,
    actor: Actor,
    *,
    created: tuple[str, str] | None = None,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    rows, total = accounts.list_clients(session, actor, PageParams(page=1, size=200))
    return render(
        request,
        "identity/clients.html",
        {
            "clients": rows,
            "total": total or 0,
            "created": created,
            "errors": errors or {},
            "values": values or {},
            "grantable": sorted(CLIENT_GRANTABLE),
            "permission_text": PERMISSIONS,
            "scope_regions": _scope_regions(session, actor),
        },
        status_code=status_code,
    )


@router.get("/admin/clients", response_class=HTMLResponse)
def clients_page(request: Request, session: DbSession, actor: PageActor) -> HTMLResponse:
    return _clients_page(request, session, actor)


@router.post("/admin/clients", response_class=HTMLResponse)
def register_client(
    request: Request,
    session: DbSession,
    actor: PageActor,
    name: Annotated[str, Form(max_length=200)] = "",
    description: Annotated[str, Form(max_length=2000)] = "",
    scope_region_id: Annotated[str, Form(max_length=16)] = "",
    scopes: Annotated[list[str] | None, Form()] = None,
) -> HTMLResponse:
    values = {"name": name, "description": description, "scope_region_id": scope_region_id, "scopes": scopes or []}
    try:
        client, secret = accounts.register_client(
            session,
            actor,
            name=name,
            scopes=scopes or [],
            scope_region_id=int(scope_region_id) if scope_region_id.isdigit() else -1,
            description=description or None,
        )
    except DomainError as exc:
        errors = refused(request, session, actor, exc)
        return _clients_page(request, session, actor, errors=errors, values=values, status_code=exc.status_code)
    # The secret is shown once, on this response only; it is not stored in clear anywhere.
    return _clients_page(request, session, actor, created=(client.client_id, secret), status_code=201)


@router.post("/admin/clients/{client_pk}/deactivate")
def deactivate_client(client_pk: int, session: DbSession, actor: CurrentActor) -> Response:
    accounts.set_client_active(session, actor, client_pk=client_pk, active=False)
    return RedirectResponse("/admin/clients", status_code=303)


@router.get("/notifications", response_class=HTMLResponse)
def notifications_page(
    request: Request, session: DbSession, actor: PageActor, page: Annotated[int, Query(ge=1, le=10_000)] = 1
) -> HTMLResponse:
    from cityos.identity import notify

    rows, total = notify.inbox(session, actor, PageParams(page=page, size=PER_PAGE))
    return render(
        request,
        "identity/notifications.html",
        {
            "items": rows,
            "total": total or 0,
            "page": page,
            "pages": max(1, -(-(total or 0) // PER_PAGE)),
            "zone": ZoneInfo(get_settings().timezone),
        },
    )


@router.post("/notifications/read")
def notifications_read(session: DbSession, actor: CurrentActor) -> Response:
    from cityos.identity import notify

    notify.mark_read(session, actor)
    return RedirectResponse("/notifications", status_code=303)
