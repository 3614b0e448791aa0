"""JSON routes of identity: tokens, OAuth2 client credentials, accounts, clients, audit, SMS outbox."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy.orm import Session

from cityos.core.http import DbSession
from cityos.core.pagination import PageQuery
from cityos.identity import accounts, service
from cityos.identity.deps import CurrentActor
from cityos.identity.models import Account
from cityos.identity.schemas import (
    AccountCreate,
    AccountPage,
    AccountRead,
    AccountUpdate,
    AuditPage,
    AuditRead,
    ClientCreate,
    ClientCreated,
    ClientPage,
    ClientRead,
    ClientTokenOut,
    CodeRequest,
    CodeSignIn,
    NotificationPage,
    NotificationRead,
    PasswordSignIn,
    RefreshIn,
    RoleIn,
    SmsPage,
    SmsRead,
    TokenOut,
    WhoAmI,
)

router = APIRouter(prefix="/api/v1", tags=["identity"])


def _ip(request: Request) -> str | None:
    return request.client.host if request.client else None


def _refused(result: service.SignIn) -> JSONResponse:
    # Returned, not raised: the failure counter and the audit row are committed with the answer.
    code = {401: "unauthorized", 403: "forbidden", 423: "locked", 429: "rate_limited"}.get(result.status, "error")
    body = {"error": {"code": code, "message": result.text(), "details": []}}
    return JSONResponse(body, status_code=result.status)


def _tokens(session: Session, account: Account) -> TokenOut:
    pair = service.issue_tokens(session, account)
    return TokenOut(access_token=pair.access_token, refresh_token=pair.refresh_token, expires_in=pair.expires_in)


@router.post("/auth/token", response_model=TokenOut)
def password_token(body: PasswordSignIn, request: Request, session: DbSession) -> TokenOut | JSONResponse:
    """Staff sign-in: an access token and a refresh token."""
    result = service.sign_in_password(session, username=body.username, password=body.password, ip=_ip(request))
    if result.account is None:
        return _refused(result)
    return _tokens(session, result.account)


@router.post("/auth/code", status_code=202)
def request_code(body: CodeRequest, request: Request, session: DbSession) -> Response:
    """Send a one-time sign-in code by SMS. The answer is the same whether or not the number is registered."""
    limited = service.request_code(session, phone=body.phone, ip=_ip(request))
    if limited is not None:
        return _refused(limited)
    return Response(status_code=202)


@router.post("/auth/code/verify", response_model=TokenOut)
def verify_code(body: CodeSignIn, request: Request, session: DbSession) -> TokenOut | JSONResponse:
    """Resident sign-in with the code from the SMS."""
    result = service.sign_in_code(session, phone=body.phone, code=body.code, ip=_ip(request))
    if result.account is None:
        return _refused(result)
    return _tokens(session, result.account)


@router.post("/auth/refresh", response_model=TokenOut)
def refresh_token(body: RefreshIn, session: DbSession) -> TokenOut | JSONResponse:
    """A new token pair for a refresh token (which stops working: rotation)."""
    result = service.refresh(session, body.refresh_token)
    if result.pair is None:
        return _refused(service.SignIn(None, result.message))
    pair = result.pair
    return TokenOut(access_token=pair.access_token, refresh_token=pair.refresh_token, expires_in=pair.expires_in)


@router.post("/auth/signout", status_code=204)
def sign_out(body: RefreshIn, session: DbSession) -> Response:
    service.revoke(session, body.refresh_token)
    return Response(status_code=204)


def _oauth_error(error: str, status: int = 400) -> JSONResponse:
    headers = {"WWW-Authenticate": 'Basic realm="cityos"'} if status == 401 else None
    return JSONResponse({"error": error}, status_code=status, headers=headers, media_type="application/json")


@router.post("/oauth/token", response_model=ClientTokenOut)
def oauth_token(
    request: Request,
    session: DbSession,
    grant_type: Annotated[str, Form(max_length=64)] = "",
    client_id: Annotated[str, Form(max_length=64)] = "",
    client_secret: Annotated[str, Form(max_length=256)] = "",
    scope: Annotated[str | None, Form(max_length=512)] = None,
) -> ClientTokenOut | JSONResponse:
    """OAuth2 client credentials (RFC 6749 §4.4): form fields, or HTTP Basic for the client."""
    if grant_type != "client_credentials":
        return _oauth_error("unsupported_grant_type" if grant_type else "invalid_request")
    header = request.headers.get("authorization", "")
    if header.lower().startswith("basic "):
        try:
            client_id, _, client_secret = base64.b64decode(header[6:]).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return _oauth_error("invalid_client", 401)
    if not client_id or not client_secret:
        return _oauth_error("invalid_client", 401)
    result = accounts.client_token(session, client_id=client_id, client_secret=client_secret, scope=scope)
    if result.token is None:
        return _oauth_error(result.error, 401 if result.error == "invalid_client" else 400)
    return ClientTokenOut(access_token=result.token, expires_in=result.expires_in, scope=result.scope)


@router.get("/me/account", response_model=WhoAmI)
def who_am_i(actor: CurrentActor) -> WhoAmI:
    """Who the token belongs to: roles, permissions and region scope."""
    return WhoAmI(
        account_id=actor.account_id,
        client_id=actor.client_id,
        label=actor.label,
        roles=sorted(actor.roles),
        permissions=sorted(actor.permissions),
        scope_region_id=actor.scope_region_id,
        scope_path=actor.scope_path,
        person_id=actor.person_id,
        department_id=actor.department_id,
        organisation_id=actor.organisation_id,
    )


def _account(session: Session, account: Account, roles: list[str] | None = None) -> AccountRead:
    if roles is None:
        roles = accounts.roles_of(session, [account.id])[account.id]
    return AccountRead(
        id=account.id,
        username=account.username,
        display_name=account.display_name,
        roles=roles,
        scope_region_id=account.scope_region_id,
        active=account.active,
        locked_until=account.locked_until,
        last_sign_in_at=account.last_sign_in_at,
        person_id=account.person_id,
        department_id=account.department_id,
        organisation_id=account.organisation_id,
        created_at=account.created_at,
    )


@router.get("/accounts", response_model=AccountPage)
def list_accounts(
    session: DbSession,
    actor: CurrentActor,
    params: PageQuery,
    q: Annotated[str | None, Query(max_length=64)] = None,
    role: Annotated[str | None, Query(max_length=32)] = None,
) -> AccountPage:
    rows, total = accounts.list_accounts(session, actor, params, q=q, role=role)
    roles = accounts.roles_of(session, [a.id for a in rows])
    items = [_account(session, a, roles[a.id]) for a in rows]
    return AccountPage(items=items, page=params.page, size=params.size, total=total)


@router.post("/accounts", response_model=AccountRead, status_code=201)
def create_account(body: AccountCreate, session: DbSession, actor: CurrentActor) -> AccountRead:
    account = accounts.create_account(
        session,
        actor,
        username=body.username,
        display_name=body.display_name,
        roles=body.roles,
        scope_region_id=body.scope_region_id,
        password=body.password,
        phone=body.phone,
        department_id=body.department_id,
        organisation_id=body.organisation_id,
        person_id=body.person_id,
    )
    return _account(session, account)


@router.get("/accounts/{account_id}", response_model=AccountRead)
def get_account(account_id: int, session: DbSession, actor: CurrentActor) -> AccountRead:
    return _account(session, accounts.get_account(session, actor, account_id))


@router.patch("/accounts/{account_id}", response_model=AccountRead)
def update_account(account_id: int, body: AccountUpdate, session: DbSession, actor: CurrentActor) -> AccountRead:
    account = accounts.update_account(
        session,
        actor,
        account_id=account_id,
        display_name=body.display_name,
        active=body.active,
        password=body.password,
    )
    return _account(session, account)


@router.post("/accounts/{account_id}/roles", response_model=AccountRead)
def grant_role(account_id: int, body: RoleIn, session: DbSession, actor: CurrentActor) -> AccountRead:
    return _account(session, accounts.grant_role(session, actor, account_id=account_id, role=body.role))


@router.delete("/accounts/{account_id}/roles/{role}", response_model=AccountRead)
def revoke_role(account_id: int, role: str, session: DbSession, actor: CurrentActor) -> AccountRead:
    return _account(session, accounts.revoke_role(session, actor, account_id=account_id, role=role))


@router.get("/clients", response_model=ClientPage)
def list_clients(session: DbSession, actor: CurrentActor, params: PageQuery) -> ClientPage:
    rows, total = accounts.list_clients(session, actor, params)
    return ClientPage(
        items=[ClientRead.model_validate(c) for c in rows], page=params.page, size=params.size, total=total
    )


@router.post("/clients", response_model=ClientCreated, status_code=201)
def register_client(body: ClientCreate, session: DbSession, actor: CurrentActor) -> ClientCreated:
    """Register a third-party app. The response carries its secret, shown this once only."""
    client, secret = accounts.register_client(
        session,
        actor,
        name=body.name,
        scopes=body.scopes,
        scope_region_id=body.scope_region_id,
        description=body.description,
        organisation_id=body.organisation_id,
    )
    read = ClientRead.model_validate(client)
    return ClientCreated(**read.model_dump(), client_secret=secret)


@router.delete("/clients/{client_pk}", response_model=ClientRead)
def deactivate_client(client_pk: int, session: DbSession, actor: CurrentActor) -> ClientRead:
    """Switch an app off: its tokens stop working."""
    return ClientRead.model_validate(accounts.set_client_active(session, actor, client_pk=client_pk, active=False))


@router.get("/audit", response_model=AuditPage)
def search_audit(
    session: DbSession,
    actor: CurrentActor,
    params: PageQuery,
    action: Annotated[str | None, Query(max_length=64)] = None,
    outcome: Annotated[str | None, Query(max_length=16)] = None,
    account_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    q: Annotated[str | None, Query(max_length=64)] = None,
) -> AuditPage:
    """The audit log, newest first: sign-ins, denials, unmasked personal-data reads, account changes."""
    filters = accounts.AuditFilter(action=action, outcome=outcome, account_id=account_id, since=since, until=until, q=q)
    rows, total = accounts.search_audit(session, actor, params, filters)
    return AuditPage(items=[AuditRead.model_validate(r) for r in rows], page=params.page, size=params.size, total=total)


@router.get("/sms", response_model=SmsPage)
def list_sms(session: DbSession, actor: CurrentActor, params: PageQuery) -> SmsPage:
    """The local SMS outbox (the default sender writes here instead of sending)."""
    rows, total = accounts.list_sms(session, actor, params)
    return SmsPage(items=[SmsRead.model_validate(m) for m in rows], page=params.page, size=params.size, total=total)


@router.get("/notifications", response_model=NotificationPage)
def list_notifications(session: DbSession, actor: CurrentActor, params: PageQuery) -> NotificationPage:
    """Your notifications, newest first, with how many are unread."""
    from cityos.identity import notify

    rows, total = notify.inbox(session, actor, params)
    return NotificationPage(
        items=[NotificationRead.model_validate(n) for n in rows],
        page=params.page,
        size=params.size,
        total=total,
        unread=notify.unread(session, actor),
    )
