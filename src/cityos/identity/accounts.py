"""Service functions for accounts, roles, OAuth2 clients, the audit log and the SMS outbox
(the administrative half of identity; sign-in and tokens are in ``identity.service``).

Nobody can hand out more than they hold: a role is granted only by an actor that has every
permission the role carries, and only within the actor's own region subtree.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from cityos.core import audit
from cityos.core.actor import Actor
from cityos.core.errors import Conflict, FieldError, Forbidden, Invalid, NotFound
from cityos.core.i18n import N_
from cityos.core.models import AuditRecord
from cityos.core.pagination import PageParams, fetch_page
from cityos.core.runtime import blind_index
from cityos.identity import passwords
from cityos.identity.deps import actor_cache
from cityos.identity.models import Account, AccountRole, OAuthClient, SmsMessage
from cityos.identity.permissions import CLIENT_GRANTABLE, ROLES, Role, permissions_for
from cityos.people import validation
from cityos.people.models import Department, Organisation, Person
from cityos.places.models import Region

_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")

MSG_USERNAME = N_("3 to 64 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit.")
MSG_USERNAME_TAKEN = N_("The username {username} is taken.")
MSG_PHONE_TAKEN = N_("Another account already uses this mobile number.")
MSG_NAME = N_("Enter a name of 1 to {max_length} characters.")
MSG_ROLES = N_("Choose at least one role.")
MSG_ROLE_UNKNOWN = N_("Unknown role {role}.")
MSG_ROLE_CLIENT = N_("The app_client role belongs to registered apps, not to accounts.")
MSG_ROLE_ABOVE = N_("You cannot grant {role}: it carries permissions you do not have.")
MSG_SCOPE = N_("The region does not exist or is outside your area.")
MSG_LINK = N_("The linked record does not exist or is outside your area.")
MSG_SELF = N_("You cannot switch off or remove roles from your own account.")
MSG_CLIENT_SCOPES = N_("Choose scopes among: {expected}.")
MSG_CLIENT_SCOPE_ABOVE = N_("You cannot grant the scope {scope}: you do not have it yourself.")
MSG_CREDENTIAL = N_("A sign-in needs a password (staff) or a mobile number (residents).")


# --- accounts --------------------------------------------------------------------------------------


def _covers_account(actor: Actor, account: Account) -> bool:
    return actor.covers(account.scope_path)


def get_account(session: Session, actor: Actor, account_id: int) -> Account:
    account = session.get(Account, account_id)
    if account is None or not _covers_account(actor, account):
        raise NotFound()
    actor.require("account:read", region=account.scope_path)
    return account


def roles_of(session: Session, account_ids: list[int]) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {i: [] for i in account_ids}
    if account_ids:
        for account_id, role in session.execute(
            select(AccountRole.account_id, AccountRole.role)
            .where(AccountRole.account_id.in_(account_ids))
            .order_by(AccountRole.role)
        ):
            out[int(account_id)].append(str(role))
    return out


def list_accounts(
    session: Session, actor: Actor, params: PageParams, *, q: str | None = None, role: str | None = None
) -> tuple[list[Account], int | None]:
    actor.require("account:read")
    query = select(Account).where(actor.scope_clause(Account.scope_path))
    if q and q.strip():
        text = q.strip()
        query = query.where(
            or_(
                Account.username.contains(text.lower(), autoescape=True),
                Account.display_name.contains(text, autoescape=True),
            )
        )
    if role:
        query = query.where(Account.id.in_(select(AccountRole.account_id).where(AccountRole.role == role)))
    return fetch_page(session, query.order_by(Account.scope_path, Account.username, Account.id), params)


def role_errors(actor: Actor, roles: list[str], field: str = "roles") -> list[FieldError]:
    errors: list[FieldError] = []
    if not roles:
        errors.append(FieldError(field, MSG_ROLES))
    for role in roles:
        if role not in ROLES:
            errors.append(FieldError(field, MSG_ROLE_UNKNOWN, {"role": role}))
        elif role == Role.APP_CLIENT:
            errors.append(FieldError(field, MSG_ROLE_CLIENT))
        elif "*" not in actor.permissions and not permissions_for({role}) <= actor.permissions:
            errors.append(FieldError(field, MSG_ROLE_ABOVE, {"role": role}))
    return errors


def create_account(
    session: Session,
    actor: Actor,
    *,
    username: str | None,
    display_name: str,
    roles: list[str],
    scope_region_id: int,
    password: str | None = None,
    phone: str | None = None,
    department_id: int | None = None,
    organisation_id: int | None = None,
    person_id: int | None = None,
) -> Account:
    """A staff account (username + password) or a resident account (mobile number, one-time codes)."""
    actor.require("account:write")
    errors: list[FieldError] = []
    name = (username or "").strip().lower() or None
    if name is not None and not _USERNAME.match(name):
        errors.append(FieldError("username", MSG_USERNAME))
    shown = re.sub(r"\s+", " ", display_name or "").strip()
    if not shown or len(shown) > 64:
        errors.append(FieldError("display_name", MSG_NAME, {"max_length": 64}))
    if password:
        problem = passwords.policy_error(password)
        if problem:
            errors.append(FieldError("password", problem, {"min_length": passwords.MIN_LENGTH}))
    number = None
    if phone:
        number = validation.normalise_phone(phone)
        problem = validation.phone_error(number)
        if problem:
            errors.append(FieldError("phone", problem))
    if not (name and password) and not number:
        errors.append(FieldError("password" if name else "phone", MSG_CREDENTIAL))
    errors.extend(role_errors(actor, roles))
    region = session.get(Region, scope_region_id)
    if region is None or not actor.covers(region):
        errors.append(FieldError("scope_region_id", MSG_SCOPE))
    for field, model, value in (
        ("department_id", Department, department_id),
        ("organisation_id", Organisation, organisation_id),
        ("person_id", Person, person_id),
    ):
        if value is not None:
            row = session.get(model, value)
            path = getattr(row, "region_path", None) if row is not None else None
            if path is None or not actor.covers(path) and field != "department_id":
                errors.append(FieldError(field, MSG_LINK))
    if errors or region is None:
        raise Invalid(details=errors)
    actor.require("account:write", region=region)
    phone_hash = blind_index().digest(number, purpose="phone") if number else None
    if name and session.scalar(select(Account.id).where(Account.username == name)) is not None:
        raise Conflict(details=[FieldError("username", MSG_USERNAME_TAKEN, {"username": name})])
    if phone_hash and session.scalar(select(Account.id).where(Account.phone_hash == phone_hash)) is not None:
        raise Conflict(details=[FieldError("phone", MSG_PHONE_TAKEN)])
    account = Account(
        username=name,
        phone_hash=phone_hash,
        password_hash=passwords.hash_password(password) if password else None,
        display_name=shown,
        person_id=person_id,
        department_id=department_id,
        organisation_id=organisation_id,
        scope_region_id=region.id,
        scope_path=region.path,
        active=True,
        failed_attempts=0,
    )
    session.add(account)
    session.flush()
    for role in sorted(set(roles)):
        session.add(AccountRole(account_id=account.id, role=role))
    audit.record(
        session,
        actor,
        "account.create",
        subject_type="account",
        subject_id=account.id,
        detail=",".join(sorted(set(roles))),
    )
    session.flush()
    return account


def grant_role(session: Session, actor: Actor, *, account_id: int, role: str) -> Account:
    account = get_account(session, actor, account_id)
    actor.require("account:write", region=account.scope_path)
    errors = role_errors(actor, [role], field="role")
    if errors:
        raise Invalid(details=errors)
    exists = session.scalar(
        select(AccountRole.id).where(AccountRole.account_id == account.id, AccountRole.role == role)
    )
    if exists is None:
        session.add(AccountRole(account_id=account.id, role=role))
        audit.record(session, actor, "account.grant", subject_type="account", subject_id=account.id, detail=role)
    actor_cache.forget(account_id=account.id)
    session.flush()
    return account


def revoke_role(session: Session, actor: Actor, *, account_id: int, role: str) -> Account:
    account = get_account(session, actor, account_id)
    actor.require("account:write", region=account.scope_path)
    if account.id == actor.account_id:
        raise Forbidden(MSG_SELF)
    if role in ROLES and Role(role) != Role.APP_CLIENT and role_errors(actor, [role], field="role"):
        raise Forbidden(params={"permission": "account:write"})
    removed = session.execute(delete(AccountRole).where(AccountRole.account_id == account.id, AccountRole.role == role))
    if removed.rowcount:  # type: ignore[attr-defined]
        audit.record(session, actor, "account.revoke", subject_type="account", subject_id=account.id, detail=role)
    actor_cache.forget(account_id=account.id)
    session.flush()
    return account


def update_account(
    session: Session,
    actor: Actor,
    *,
    account_id: int,
    display_name: str | None = None,
    active: bool | None = None,
    password: str | None = None,
) -> Account:
    account = get_account(session, actor, account_id)
    actor.require("account:write", region=account.scope_path)
    errors: list[FieldError] = []
    if display_name is not None:
        shown = re.sub(r"\s+", " ", display_name).strip()
        if not shown or len(shown) > 64:
            errors.append(FieldError("display_name", MSG_NAME, {"max_length": 64}))
    if password is not None:
        problem = passwords.policy_error(password)
        if problem:
            errors.append(FieldError("password", problem, {"min_length": passwords.MIN_LENGTH}))
    if errors:
        raise Invalid(details=errors)
    if active is False and account.id == actor.account_id:
        raise Forbidden(MSG_SELF)
    if display_name is not None:
        account.display_name = re.sub(r"\s+", " ", display_name).strip()
    if active is not None and active != account.active:
        account.active = active
        audit.record(
            session,
            actor,
            "account.activate" if active else "account.deactivate",
            subject_type="account",
            subject_id=account.id,
        )
    if password is not None:
        account.password_hash = passwords.hash_password(password)
        account.failed_attempts = 0
        account.locked_until = None
        audit.record(session, actor, "account.password", subject_type="account", subject_id=account.id)
    actor_cache.forget(account_id=account.id)
    session.flush()
    return account


def find_by_username(session: Session, username: str) -> Account:
    account = session.scalar(select(Account).where(Account.username == username.strip().lower()))
    if account is None:
        raise NotFound()
    return account


# --- OAuth2 clients ------------------------------------------------------------------------------------


def _scope_errors(actor: Actor, scopes: list[str]) -> list[FieldError]:
    errors: list[FieldError] = []
    if not scopes:
        errors.append(FieldError("scopes", MSG_CLIENT_SCOPES, {"expected": ", ".join(sorted(CLIENT_GRANTABLE))}))
    for scope in scopes:
        if scope not in CLIENT_GRANTABLE:
            errors.append(FieldError("scopes", MSG_CLIENT_SCOPES, {"expected": ", ".join(sorted(CLIENT_GRANTABLE))}))
        elif "*" not in actor.permissions and scope not in actor.permissions:
            errors.append(FieldError("scopes", MSG_CLIENT_SCOPE_ABOVE, {"scope": scope}))
    return errors


def register_client(
    session: Session,
    actor: Actor,
    *,
    name: str,
    scopes: list[str],
    scope_region_id: int,
    description: str | None = None,
    organisation_id: int | None = None,
) -> tuple[OAuthClient, str]:
    """Register a third-party app; returns it and its secret, which is shown this once only."""
    actor.require("client:write")
    errors = _scope_errors(actor, scopes)
    shown = re.sub(r"\s+", " ", name or "").strip()
    if not shown or len(shown) > 128:
        errors.append(FieldError("name", MSG_NAME, {"max_length": 128}))
    region = session.get(Region, scope_region_id)
    if region is None or not actor.covers(region):
        errors.append(FieldError("scope_region_id", MSG_SCOPE))
    if organisation_id is not None:
        org = session.get(Organisation, organisation_id)
        if org is None or not actor.covers(org.region_path):
            errors.append(FieldError("organisation_id", MSG_LINK))
    if errors or region is None:
        raise Invalid(details=errors)
    actor.require("client:write", region=region)
    secret = secrets.token_urlsafe(32)
    client = OAuthClient(
        client_id=f"app-{secrets.token_hex(8)}",
        secret_hash=passwords.hash_password(secret),
        name=shown,
        scopes=sorted(set(scopes)),
        scope_region_id=region.id,
        scope_path=region.path,
        organisation_id=organisation_id,
        active=True,
        description=(description or "").strip()[:2000] or None,
    )
    session.add(client)
    session.flush()
    audit.record(session, actor, "client.register", subject_type="client", subject_id=client.client_id)
    return client, secret


def list_clients(session: Session, actor: Actor, params: PageParams) -> tuple[list[OAuthClient], int | None]:
    actor.require("client:write")
    query = (
        select(OAuthClient).where(actor.scope_clause(OAuthClient.scope_path)).order_by(OAuthClient.name, OAuthClient.id)
    )
    return fetch_page(session, query, params)


def set_client_active(session: Session, actor: Actor, *, client_pk: int, active: bool) -> OAuthClient:
    client = session.get(OAuthClient, client_pk)
    if client is None or not actor.covers(client.scope_path):
        raise NotFound()
    actor.require("client:write", region=client.scope_path)
    client.active = active
    audit.record(
        session,
        actor,
        "client.activate" if active else "client.deactivate",
        subject_type="client",
        subject_id=client.client_id,
    )
    actor_cache.forget(client_id=client.client_id)
    session.flush()
    return client


@dataclass(frozen=True)
class ClientToken:
    token: str | None
    scope: str = ""
    expires_in: int = 0
    error: str = ""  # RFC 6749 error code when token is None


CLIENT_TOKEN_SECONDS = 3600


def client_token(session: Session, *, client_id: str, client_secret: str, scope: str | None) -> ClientToken:
    """OAuth2 client credentials (RFC 6749 §4.4). The token carries the requested scopes that the
    client was granted; asking for a scope it was not granted is ``invalid_scope``."""
    from datetime import timedelta

    from cityos.identity import tokens

    client = session.scalar(select(OAuthClient).where(OAuthClient.client_id == client_id))
    label = Actor(account_id=None, label=f"client:{client_id[:56]}", roles=frozenset(), permissions=frozenset())
    if client is None or not client.active or not passwords.verify(client.secret_hash, client_secret):
        audit.record(session, label, "client.token", outcome="failed")
        return ClientToken(None, error="invalid_client")
    granted = list(client.scopes or [])
    wanted = scope.split() if scope else granted
    if any(s not in granted for s in wanted):
        audit.record(session, label, "client.token", outcome="failed", detail="invalid_scope")
        return ClientToken(None, error="invalid_scope")
    text = " ".join(sorted(set(wanted)))
    token, _ = tokens.issue("client", client.client_id, timedelta(seconds=CLIENT_TOKEN_SECONDS), scope=text)
    audit.record(session, label, "client.token")
    return ClientToken(token, text, CLIENT_TOKEN_SECONDS)


# --- the audit log and the SMS outbox --------------------------------------------------------------------


@dataclass
class AuditFilter:
    action: str | None = None
    outcome: str | None = None
    account_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None
    q: str | None = None  # who (label) or what (subject id)


def search_audit(
    session: Session, actor: Actor, params: PageParams, filters: AuditFilter
) -> tuple[list[AuditRecord], int | None]:
    """The audit log, newest first."""
    actor.require("audit:read")
    query = select(AuditRecord)
    if filters.action:
        query = query.where(AuditRecord.action.startswith(filters.action, autoescape=True))
    if filters.outcome:
        query = query.where(AuditRecord.outcome == filters.outcome)
    if filters.account_id is not None:
        query = query.where(AuditRecord.account_id == filters.account_id)
    if filters.since is not None:
        query = query.where(AuditRecord.at >= filters.since)
    if filters.until is not None:
        query = query.where(AuditRecord.at < filters.until)
    if filters.q and filters.q.strip():
        text = filters.q.strip()
        query = query.where(
            or_(AuditRecord.actor_label.contains(text, autoescape=True), AuditRecord.subject_id == text)
        )
    return fetch_page(session, query.order_by(AuditRecord.at.desc(), AuditRecord.id.desc()), params)


def audit_actions(session: Session, actor: Actor) -> list[str]:
    actor.require("audit:read")
    return list(session.scalars(select(AuditRecord.action).distinct().order_by(AuditRecord.action)))


def list_sms(session: Session, actor: Actor, params: PageParams) -> tuple[list[SmsMessage], int | None]:
    actor.require("sms:read")
    return fetch_page(session, select(SmsMessage).order_by(SmsMessage.id.desc()), params)


def count_accounts(session: Session, actor: Actor) -> int:
    actor.require("account:read")
    return int(
        session.scalar(select(func.count()).select_from(Account).where(actor.scope_clause(Account.scope_path))) or 0
    )


def account_links(session: Session, account: Account) -> dict[str, Any]:
    """Names of what an account is linked to, for display."""
    out: dict[str, Any] = {}
    region = session.get(Region, account.scope_region_id)
    out["scope_name"] = region.name if region else ""
    if account.department_id:
        dept = session.get(Department, account.department_id)
        out["department_name"] = dept.name if dept else ""
    if account.organisation_id:
        org = session.get(Organisation, account.organisation_id)
        out["organisation_name"] = org.name if org else ""
    return out
