"""The light-app registry (轻应用): developers register and edit their apps and submit them for
review; reviewers approve them (which creates the app's OAuth2 client with the granted scopes in
the region the app may act in), reject them with a reason, suspend and resume them.

The OAuth2 client is created here as the reviewer's action, with the identity model directly:
``identity.accounts.register_client`` needs ``client:write``, which a reviewer (``app:review``)
does not hold. Nobody grants a scope they do not hold themselves.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from cityos.core import audit
from cityos.core.actor import Actor
from cityos.core.db import utcnow
from cityos.core.errors import Conflict, FieldError, Invalid, NotFound
from cityos.core.i18n import N_, translate
from cityos.core.runtime import field_cipher
from cityos.hub.apps.models import AppStatus, AppUsage, LightApp
from cityos.identity import passwords
from cityos.identity.deps import actor_cache
from cityos.identity.models import OAuthClient
from cityos.identity.permissions import CLIENT_GRANTABLE
from cityos.people.models import Organisation
from cityos.places.models import Region

CATEGORIES: dict[str, str] = {
    "government": N_("Government services"),
    "community": N_("Community life"),
    "mobility": N_("Getting around"),
    "environment": N_("Environment"),
    "public_safety": N_("Public safety"),
    "data": N_("Data and analysis"),
}
STATUS_TITLES: dict[str, str] = {
    AppStatus.DRAFT: N_("Draft"),
    AppStatus.SUBMITTED: N_("In review"),
    AppStatus.APPROVED: N_("Live"),
    AppStatus.REJECTED: N_("Rejected"),
    AppStatus.SUSPENDED: N_("Suspended"),
}
DELIVERY_TITLES: dict[str, str] = {
    "pending": N_("Waiting to send"),
    "delivered": N_("Delivered"),
    "failed": N_("Failed"),
}
ICON_TYPES = {b"\x89PNG\r\n\x1a\n": "image/png", b"\xff\xd8\xff": "image/jpeg", b"GIF8": "image/gif"}
ICON_MAX_BYTES = 64 * 1024
SECRET_CONTEXT = "light_app.secret"
RATE_MIN, RATE_MAX, RATE_DEFAULT = 1, 100_000, 600

MSG_APP_NAME = N_("Enter an app name of 1 to {max_length} characters.")
MSG_APP_TEXT = N_("At most {max_length} characters.")
MSG_APP_CATEGORY = N_("Choose a category among: {expected}.")
MSG_APP_URL = N_("Enter an http:// or https:// address of at most 512 characters.")
MSG_APP_EMOJI = N_("An emoji of at most 16 characters.")
MSG_APP_SCOPES = N_("Choose scopes among: {expected}.")
MSG_APP_SCOPE_ABOVE = N_("You cannot grant the scope {scope}: you do not have it yourself.")
MSG_APP_SCOPES_LOCKED = N_("An approved app changes its scopes only through a new review.")
MSG_APP_ORG = N_("The organisation does not exist or is outside your area.")
MSG_APP_REGION = N_("The region does not exist or is outside your area.")
MSG_APP_RATE = N_("Enter a whole number of requests per minute from {min} to {max}.")
MSG_APP_REASON = N_("Give a reason of 1 to 2000 characters.")
MSG_APP_ICON_TYPE = N_("The icon must be a PNG, JPEG or GIF image.")
MSG_APP_ICON_SIZE = N_("The icon may be at most {kb} KB.")
MSG_APP_SECRET_TAKEN = N_("The secret was shown once already: rotate it to get a new one.")
MSG_APP_STATE = N_("This cannot be done while the app is {status}.")


@dataclass
class AppInput:
    """What a developer fills in; None leaves a field as it is (on update)."""

    name: str | None = None
    description: str | None = None
    category: str | None = None
    emoji: str | None = None
    homepage_url: str | None = None
    entry_url: str | None = None
    requested_scopes: list[str] | None = None
    organisation_id: int | None = None


def state_conflict(app: LightApp) -> Conflict:
    return Conflict(MSG_APP_STATE, params={"status": translate(STATUS_TITLES.get(app.status, app.status))})


def _clean(text: str | None) -> str:
    return re.sub(r"\s+", " ", text or "").strip()


def url_ok(value: str) -> bool:
    parts = urlsplit(value)
    return len(value) <= 512 and parts.scheme in {"http", "https"} and bool(parts.netloc) and " " not in value


def _expected() -> dict[str, str]:
    return {"expected": ", ".join(sorted(CLIENT_GRANTABLE))}


def scope_errors(actor: Actor | None, scopes: list[str], field: str) -> list[FieldError]:
    """Scopes must be grantable to apps, and (for a reviewer) held by the one who grants them."""
    errors: list[FieldError] = []
    if not scopes or any(s not in CLIENT_GRANTABLE for s in scopes):
        return [FieldError(field, MSG_APP_SCOPES, _expected())]
    if actor is not None:
        for scope in scopes:
            if "*" not in actor.permissions and scope not in actor.permissions:
                errors.append(FieldError(field, MSG_APP_SCOPE_ABOVE, {"scope": scope}))
    return errors


def _org_ok(session: Session, actor: Actor, organisation_id: int) -> bool:
    """An app is registered for the developer's own organisation or one in their area."""
    org = session.get(Organisation, organisation_id)
    return org is not None and (actor.organisation_id == org.id or actor.covers(org.region_path))


def _validate(session: Session, actor: Actor, data: AppInput, *, creating: bool) -> list[FieldError]:
    errors: list[FieldError] = []
    if creating or data.name is not None:
        name = _clean(data.name)
        if not name or len(name) > 64:
            errors.append(FieldError("name", MSG_APP_NAME, {"max_length": 64}))
    if data.description is not None and len(data.description.strip()) > 2000:
        errors.append(FieldError("description", MSG_APP_TEXT, {"max_length": 2000}))
    if (creating or data.category is not None) and data.category not in CATEGORIES:
        errors.append(FieldError("category", MSG_APP_CATEGORY, {"expected": ", ".join(CATEGORIES)}))
    if data.emoji is not None and len(data.emoji.strip()) > 16:
        errors.append(FieldError("emoji", MSG_APP_EMOJI))
    if data.homepage_url and not url_ok(data.homepage_url.strip()):
        errors.append(FieldError("homepage_url", MSG_APP_URL))
    if (creating or data.entry_url is not None) and not url_ok((data.entry_url or "").strip()):
        errors.append(FieldError("entry_url", MSG_APP_URL))
    if creating or data.requested_scopes is not None:
        errors += scope_errors(None, list(data.requested_scopes or []), "requested_scopes")
    if data.organisation_id is not None and not _org_ok(session, actor, data.organisation_id):
        errors.append(FieldError("organisation_id", MSG_APP_ORG))
    return errors


def _apply(app: LightApp, data: AppInput) -> None:
    if data.name is not None:
        app.name = _clean(data.name)
    if data.description is not None:
        app.description = data.description.strip()
    if data.category is not None:
        app.category = data.category
    if data.emoji is not None:
        app.emoji = data.emoji.strip() or None
    if data.homepage_url is not None:
        app.homepage_url = data.homepage_url.strip() or None
    if data.entry_url is not None:
        app.entry_url = data.entry_url.strip()
    if data.requested_scopes is not None:
        app.requested_scopes = sorted(set(data.requested_scopes))
    if data.organisation_id is not None:
        app.organisation_id = data.organisation_id
    app.updated_at = utcnow()


# --- the developer's side -------------------------------------------------------------------------------


def create_app(session: Session, actor: Actor, data: AppInput) -> LightApp:
    """Register a light app as a draft (the developer is the caller)."""
    actor.require("app:develop")
    if actor.account_id is None:
        raise NotFound()
    errors = _validate(session, actor, data, creating=True)
    if errors:
        raise Invalid(details=errors)
    app = LightApp(
        name="",
        category="",
        entry_url="",
        developer_id=actor.account_id,
        home_path=actor.scope_path,
        organisation_id=data.organisation_id or actor.organisation_id,
        status=AppStatus.DRAFT,
        rate_limit=RATE_DEFAULT,
        requested_scopes=[],
        granted_scopes=[],
    )
    _apply(app, data)
    session.add(app)
    session.flush()
    audit.record(session, actor, "app.create", subject_type="light_app", subject_id=app.id)
    return app


def _reviewer(actor: Actor, app: LightApp) -> bool:
    return actor.can("app:review") and (actor.covers(app.home_path) or actor.covers(app.scope_path or app.home_path))


def get_app(session: Session, actor: Actor, app_id: int) -> LightApp:
    """An app its developer or a reviewer of its area may see; 404 otherwise."""
    app = session.get(LightApp, app_id)
    if app is None:
        raise NotFound()
    if (actor.can("app:develop") and app.developer_id == actor.account_id) or _reviewer(actor, app):
        return app
    raise NotFound()


def get_own(session: Session, actor: Actor, app_id: int) -> LightApp:
    """An app of the caller's own (the developer's changes); 404 for anyone else's."""
    actor.require("app:develop")
    app = session.get(LightApp, app_id)
    if app is None or app.developer_id != actor.account_id:
        raise NotFound()
    return app


def my_apps(session: Session, actor: Actor) -> list[LightApp]:
    actor.require("app:develop")
    return list(
        session.scalars(select(LightApp).where(LightApp.developer_id == actor.account_id).order_by(LightApp.id.desc()))
    )


def update_app(session: Session, actor: Actor, app_id: int, data: AppInput) -> LightApp:
    app = get_own(session, actor, app_id)
    if app.status == AppStatus.SUBMITTED:
        raise state_conflict(app)
    errors = _validate(session, actor, data, creating=False)
    locked = app.status in (AppStatus.APPROVED, AppStatus.SUSPENDED)
    if locked and data.requested_scopes is not None and sorted(set(data.requested_scopes)) != app.requested_scopes:
        errors.append(FieldError("requested_scopes", MSG_APP_SCOPES_LOCKED))
    if errors:
        raise Invalid(details=errors)
    _apply(app, data)
    if app.client_pk is not None:
        client = session.get(OAuthClient, app.client_pk)
        if client is not None:
            client.name = app.name
    session.flush()
    return app


def set_icon(session: Session, actor: Actor, app_id: int, content: bytes) -> LightApp:
    """Upload the app's icon (PNG, JPEG or GIF, at most 64 KB)."""
    app = get_own(session, actor, app_id)
    kind = next((t for magic, t in ICON_TYPES.items() if content.startswith(magic)), None)
    if kind is None:
        raise Invalid(details=[FieldError("icon", MSG_APP_ICON_TYPE)])
    if len(content) > ICON_MAX_BYTES:
        raise Invalid(details=[FieldError("icon", MSG_APP_ICON_SIZE, {"kb": ICON_MAX_BYTES // 1024})])
    app.icon = content
    app.icon_type = kind
    app.updated_at = utcnow()
    session.flush()
    return app


def icon_of(session: Session, actor: Actor, app_id: int) -> tuple[bytes, str]:
    """The icon of an approved app (the catalogue shows them), or of one the caller may see."""
    app = session.get(LightApp, app_id)
    if app is None:
        raise NotFound()
    if app.status != AppStatus.APPROVED:
        app = get_app(session, actor, app_id)
    if app.icon is None or app.icon_type is None:
        raise NotFound()
    return app.icon, app.icon_type


def submit(session: Session, actor: Actor, app_id: int) -> LightApp:
    app = get_own(session, actor, app_id)
    if app.status not in (AppStatus.DRAFT, AppStatus.REJECTED):
        raise state_conflict(app)
    app.status = AppStatus.SUBMITTED
    app.submitted_at = utcnow()
    session.flush()
    audit.record(session, actor, "app.submit", subject_type="light_app", subject_id=app.id)
    return app


def collect_secret(session: Session, actor: Actor, app_id: int) -> tuple[LightApp, str]:
    """The client secret made at approval, to the app's developer, once; afterwards only a
    rotation gives a new one."""
    app = get_own(session, actor, app_id)
    if app.secret_pending is None or app.client_id is None:
        raise Conflict(MSG_APP_SECRET_TAKEN)
    secret = field_cipher().decrypt(app.secret_pending, context=SECRET_CONTEXT)
    app.secret_pending = None
    session.flush()
    audit.record(session, actor, "app.collect_secret", subject_type="client", subject_id=app.client_id)
    return app, secret


def rotate_secret(session: Session, actor: Actor, app_id: int) -> tuple[LightApp, str]:
    """A new client secret, shown this once; the old one stops working at once."""
    app = get_own(session, actor, app_id)
    client = session.get(OAuthClient, app.client_pk) if app.client_pk else None
    if client is None:
        raise state_conflict(app)
    secret = secrets.token_urlsafe(32)
    client.secret_hash = passwords.hash_password(secret)
    app.secret_pending = None
    session.flush()
    audit.record(session, actor, "app.rotate_secret", subject_type="client", subject_id=client.client_id)
    return app, secret


# --- the reviewer's side --------------------------------------------------------------------------------------


def review_queue(session: Session, actor: Actor, *, status: str | None = None) -> list[LightApp]:
    """Apps of the reviewer's area, submitted ones first (oldest first)."""
    actor.require("app:review")
    query = select(LightApp).where(or_(actor.scope_clause(LightApp.home_path), actor.scope_clause(LightApp.scope_path)))
    if status:
        query = query.where(LightApp.status == status)
    rows = list(session.scalars(query.order_by(LightApp.id).limit(500)))
    rows.sort(key=lambda a: (a.status != AppStatus.SUBMITTED, a.submitted_at or a.created_at))
    return rows


def _reviewable(session: Session, actor: Actor, app_id: int) -> LightApp:
    actor.require("app:review")
    app = session.get(LightApp, app_id)
    if app is None or not _reviewer(actor, app):
        raise NotFound()
    return app


def _rate_errors(rate_limit: Any) -> list[FieldError]:
    if not isinstance(rate_limit, int) or isinstance(rate_limit, bool) or not RATE_MIN <= rate_limit <= RATE_MAX:
        return [FieldError("rate_limit", MSG_APP_RATE, {"min": RATE_MIN, "max": RATE_MAX})]
    return []


def _limits_changed(client_id: str | None) -> None:
    from cityos.hub.apps import ratelimit

    if client_id:
        ratelimit.limits.forget(client_id)
        actor_cache.forget(client_id=client_id)


def approve(
    session: Session,
    actor: Actor,
    app_id: int,
    *,
    scopes: list[str],
    region_id: int,
    rate_limit: int = RATE_DEFAULT,
    note: str | None = None,
) -> LightApp:
    """Approve a submitted app: its OAuth2 client is created, active, with the granted scopes in
    the chosen region. The secret is kept (encrypted) for the developer to collect once
    (``collect_secret``); the reviewer never sees it."""
    app = _reviewable(session, actor, app_id)
    if app.status != AppStatus.SUBMITTED:
        raise state_conflict(app)
    errors = scope_errors(actor, list(scopes), "scopes") + _rate_errors(rate_limit)
    region = session.get(Region, region_id) if isinstance(region_id, int) else None
    if region is None or not actor.covers(region):
        errors.append(FieldError("region_id", MSG_APP_REGION))
    if note is not None and len(note) > 2000:
        errors.append(FieldError("note", MSG_APP_TEXT, {"max_length": 2000}))
    if errors or region is None:
        raise Invalid(details=errors)
    secret = secrets.token_urlsafe(32)
    client = OAuthClient(
        client_id=f"app-{secrets.token_hex(8)}",
        secret_hash=passwords.hash_password(secret),
        name=app.name,
        scopes=sorted(set(scopes)),
        scope_region_id=region.id,
        scope_path=region.path,
        organisation_id=app.organisation_id,
        active=True,
        description=f"light app {app.id}",
    )
    session.add(client)
    session.flush()
    app.client_pk = client.id
    app.client_id = client.client_id
    app.secret_pending = field_cipher().encrypt(secret, context=SECRET_CONTEXT)
    app.granted_scopes = sorted(set(scopes))
    app.scope_region_id = region.id
    app.scope_path = region.path
    app.rate_limit = rate_limit
    app.status = AppStatus.APPROVED
    app.review_note = (note or "").strip() or None
    app.reviewed_by = actor.label[:128]
    app.reviewed_at = utcnow()
    session.flush()
    audit.record(session, actor, "app.approve", subject_type="light_app", subject_id=app.id)
    _limits_changed(app.client_id)
    return app


def _reason(reason: str | None) -> str:
    text = (reason or "").strip()
    if not text or len(text) > 2000:
        raise Invalid(details=[FieldError("reason", MSG_APP_REASON)])
    return text


def reject(session: Session, actor: Actor, app_id: int, *, reason: str) -> LightApp:
    app = _reviewable(session, actor, app_id)
    text = _reason(reason)
    if app.status != AppStatus.SUBMITTED:
        raise state_conflict(app)
    app.status = AppStatus.REJECTED
    app.review_note = text
    app.reviewed_by = actor.label[:128]
    app.reviewed_at = utcnow()
    session.flush()
    audit.record(session, actor, "app.reject", subject_type="light_app", subject_id=app.id)
    return app


def _set_client(session: Session, app: LightApp, active: bool) -> None:
    client = session.get(OAuthClient, app.client_pk) if app.client_pk else None
    if client is not None:
        client.active = active
    _limits_changed(app.client_id)


def suspend(session: Session, actor: Actor, app_id: int, *, reason: str) -> LightApp:
    """Stop an approved app: its client is switched off, so no new token and no call works."""
    app = _reviewable(session, actor, app_id)
    text = _reason(reason)
    if app.status != AppStatus.APPROVED:
        raise state_conflict(app)
    app.status = AppStatus.SUSPENDED
    app.review_note = text
    app.reviewed_by = actor.label[:128]
    app.reviewed_at = utcnow()
    _set_client(session, app, False)
    session.flush()
    audit.record(session, actor, "app.suspend", subject_type="light_app", subject_id=app.id)
    return app


def resume(session: Session, actor: Actor, app_id: int) -> LightApp:
    app = _reviewable(session, actor, app_id)
    if app.status != AppStatus.SUSPENDED:
        raise state_conflict(app)
    app.status = AppStatus.APPROVED
    app.reviewed_by = actor.label[:128]
    app.reviewed_at = utcnow()
    _set_client(session, app, True)
    session.flush()
    audit.record(session, actor, "app.resume", subject_type="light_app", subject_id=app.id)
    return app


def set_rate_limit(session: Session, actor: Actor, app_id: int, *, rate_limit: int) -> LightApp:
    app = _reviewable(session, actor, app_id)
    errors = _rate_errors(rate_limit)
    if errors:
        raise Invalid(details=errors)
    app.rate_limit = rate_limit
    session.flush()
    audit.record(session, actor, "app.rate_limit", subject_type="light_app", subject_id=app.id)
    _limits_changed(app.client_id)
    return app


# --- the catalogue (应用广场) ---------------------------------------------------------------------------------


def catalogue(session: Session, actor: Actor, *, category: str | None = None) -> list[LightApp]:
    """Approved apps for the caller to open: those acting in the caller's area or above it."""
    query = select(LightApp).where(LightApp.status == AppStatus.APPROVED)
    if category:
        query = query.where(LightApp.category == category)
    rows = session.scalars(query.order_by(LightApp.name, LightApp.id).limit(500))
    return [
        a for a in rows if a.scope_path and (actor.scope_path.startswith(a.scope_path) or actor.covers(a.scope_path))
    ]


def usage(session: Session, actor: Actor, app_id: int, *, days: int = 14) -> list[tuple[date, int, int]]:
    """Requests and refusals (429) per UTC day of the app's client, the last ``days`` days
    (oldest first), including what this process counted since the last flush."""
    from cityos.hub.apps import ratelimit

    app = get_app(session, actor, app_id)
    today = utcnow().date()
    start = today - timedelta(days=days - 1)
    counts: dict[date, list[int]] = {start + timedelta(days=n): [0, 0] for n in range(days)}
    if app.client_id:
        for row in session.scalars(select(AppUsage).where(AppUsage.client_id == app.client_id, AppUsage.day >= start)):
            if row.day in counts:
                counts[row.day][0] += row.requests
                counts[row.day][1] += row.limited
        for day, (req, lim) in ratelimit.usage.peek(app.client_id).items():
            if day in counts:
                counts[day][0] += req
                counts[day][1] += lim
    return [(day, req, lim) for day, (req, lim) in sorted(counts.items())]
