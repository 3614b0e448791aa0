"""FastAPI dependencies that resolve the caller into an ``Actor``."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from cityos.core.actor import ANONYMOUS, Actor
from cityos.core.errors import Unauthorized
from cityos.core.http import DbSession
from cityos.core.settings import get_settings
from cityos.identity import tokens
from cityos.identity.models import Account, AccountRole, OAuthClient
from cityos.identity.permissions import CLIENT_GRANTABLE, Role, permissions_for


def actor_for_account(session: Session, account: Account) -> Actor:
    roles = frozenset(session.scalars(select(AccountRole.role).where(AccountRole.account_id == account.id)))
    return Actor(
        account_id=account.id,
        label=account.username or f"account:{account.id}",
        roles=roles,
        permissions=permissions_for(roles),
        scope_path=account.scope_path,
        scope_region_id=account.scope_region_id,
        person_id=account.person_id,
        department_id=account.department_id,
        organisation_id=account.organisation_id,
    )


def actor_for_client(client: OAuthClient, granted: list[str]) -> Actor:
    perms = frozenset(p for p in granted if p in CLIENT_GRANTABLE and p in client.scopes)
    return Actor(
        account_id=None,
        label=f"client:{client.client_id}",
        roles=frozenset({Role.APP_CLIENT.value}),
        permissions=perms,
        scope_path=client.scope_path,
        scope_region_id=client.scope_region_id,
        organisation_id=client.organisation_id,
        client_id=client.client_id,
    )


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value:
        return value.strip()
    return None


def resolve_actor(request: Request, session: Session) -> Actor:
    """The caller, or ANONYMOUS. Bearer tokens (API, apps) win over the page cookie."""
    cached = getattr(request.state, "actor", None)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    actor = ANONYMOUS
    bearer = _bearer(request)
    claims: tokens.TokenClaims | None
    if bearer:
        claims = tokens.decode(bearer, expect=("access", "client"))
    else:
        cookie = request.cookies.get(get_settings().session_cookie_name)
        claims = tokens.decode(cookie, expect="session") if cookie else None
    if claims is not None:
        if claims.kind == "client":
            client = session.scalar(select(OAuthClient).where(OAuthClient.client_id == claims.subject))
            if client is None or not client.active:
                raise Unauthorized("The sign-in token is not valid.")
            actor = actor_for_client(client, list(claims.extra.get("scope", "").split()))
        else:
            account = session.get(Account, int(claims.subject))
            if account is None or not account.active:
                raise Unauthorized("The sign-in token is not valid.")
            actor = actor_for_account(session, account)
    request.state.actor = actor
    return actor


def optional_actor(request: Request, session: DbSession) -> Actor:
    try:
        return resolve_actor(request, session)
    except Unauthorized:
        return ANONYMOUS


def current_actor(request: Request, session: DbSession) -> Actor:
    actor = resolve_actor(request, session)
    if not actor.is_authenticated:
        raise Unauthorized()
    return actor


CurrentActor = Annotated[Actor, Depends(current_actor)]
OptionalActor = Annotated[Actor, Depends(optional_actor)]
