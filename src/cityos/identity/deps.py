"""FastAPI dependencies that resolve the caller into an ``Actor``."""

from __future__ import annotations

import threading
import time
from typing import Annotated

import anyio
from fastapi import Depends, Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from cityos.core.actor import ANONYMOUS, Actor
from cityos.core.errors import Unauthorized
from cityos.core.http import DbSession
from cityos.core.settings import get_settings
from cityos.identity import tokens
from cityos.identity.models import Account, AccountRole, OAuthClient, RefreshToken
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


def _claims(request: Request) -> tokens.TokenClaims | None:
    """The caller's token, checked (signature, expiry, kind); bearer tokens win over the cookie."""
    bearer = _bearer(request)
    if bearer:
        return tokens.decode(bearer, expect=("access", "client"))
    cookie = request.cookies.get(get_settings().session_cookie_name)
    return tokens.decode(cookie, expect="session") if cookie else None


def _load_actor(session: Session, claims: tokens.TokenClaims) -> Actor:
    if claims.kind == "client":
        client = session.scalar(select(OAuthClient).where(OAuthClient.client_id == claims.subject))
        if client is None or not client.active:
            raise Unauthorized("The sign-in token is not valid.")
        return actor_for_client(client, list(claims.extra.get("scope", "").split()))
    account = session.get(Account, int(claims.subject))
    if account is None or not account.active:
        raise Unauthorized("The sign-in token is not valid.")
    if claims.kind == "session":
        # Page sessions are recorded when issued, so signing out (or an administrator) ends them.
        live = session.scalar(
            select(RefreshToken.id).where(RefreshToken.jti == claims.jti, RefreshToken.revoked_at.is_(None))
        )
        if live is None:
            raise Unauthorized("Your sign-in has expired. Please sign in again.")
    return actor_for_account(session, account)


class ActorCache:
    """Actors resolved from a token in the last few seconds, so a burst of API calls does not
    load the account and its roles every time. Role, scope and activity changes call
    ``forget`` (this process at once; other workers within ``ttl`` seconds)."""

    def __init__(self, ttl: float = 5.0, size: int = 10_000) -> None:
        self.ttl = ttl
        self.size = size
        self._items: dict[tuple[str, str, str], tuple[float, Actor]] = {}
        self._lock = threading.Lock()

    def get(self, claims: tokens.TokenClaims) -> Actor | None:
        with self._lock:
            hit = self._items.get((claims.kind, claims.subject, claims.jti))
        if hit is None or time.monotonic() - hit[0] > self.ttl:
            return None
        return hit[1]

    def put(self, claims: tokens.TokenClaims, actor: Actor) -> None:
        with self._lock:
            if len(self._items) >= self.size:
                self._items.clear()
            self._items[(claims.kind, claims.subject, claims.jti)] = (time.monotonic(), actor)

    def forget(self, *, account_id: int | None = None, client_id: str | None = None) -> None:
        """Drop the cached actors of one account or client (all of them when neither is given)."""
        with self._lock:
            if account_id is None and client_id is None:
                self._items.clear()
                return
            for key, (_, actor) in list(self._items.items()):
                if (account_id is not None and actor.account_id == account_id) or (
                    client_id is not None and actor.client_id == client_id
                ):
                    del self._items[key]


actor_cache = ActorCache()


def resolve_actor(request: Request, session: Session) -> Actor:
    """The caller, or ANONYMOUS. Bearer tokens (API, apps) win over the page cookie."""
    cached = getattr(request.state, "actor", None)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    claims = _claims(request)
    actor = ANONYMOUS
    if claims is not None:
        actor = actor_cache.get(claims) or _load_actor(session, claims)
        actor_cache.put(claims, actor)
    request.state.actor = actor
    return actor


def optional_actor(request: Request, session: DbSession) -> Actor:
    try:
        return resolve_actor(request, session)
    except Unauthorized:
        return ANONYMOUS


async def current_actor(request: Request, session: DbSession) -> Actor:
    """The signed-in caller. A recently seen token resolves on the event loop; otherwise the
    account is loaded in a worker thread."""
    actor: Actor | None = getattr(request.state, "actor", None)
    if actor is None:
        claims = _claims(request)
        if claims is None:
            raise Unauthorized()
        actor = actor_cache.get(claims)
        if actor is None:
            actor = await anyio.to_thread.run_sync(_load_actor, session, claims)
            actor_cache.put(claims, actor)
        request.state.actor = actor
    if not actor.is_authenticated:
        raise Unauthorized()
    return actor


CurrentActor = Annotated[Actor, Depends(current_actor)]
OptionalActor = Annotated[Actor, Depends(optional_actor)]
