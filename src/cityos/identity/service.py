"""Sign-in (password, one-time code), tokens and page sessions.

A failed sign-in is an outcome, not an exception: the failure counter, the lockout and the audit
row must be committed with it, so these functions return a result that the route turns into a
401 or 429 answer. Accounts and OAuth2 clients are in ``identity.accounts``.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from cityos.core import audit
from cityos.core.actor import Actor
from cityos.core.db import utcnow
from cityos.core.errors import FieldError, Invalid, RateLimited
from cityos.core.i18n import N_, translate
from cityos.core.runtime import blind_index
from cityos.core.settings import get_settings
from cityos.identity import passwords, tokens
from cityos.identity.deps import actor_cache, actor_for_account
from cityos.identity.models import Account, AccountRole, OneTimeCode, RefreshToken
from cityos.identity.permissions import Role
from cityos.identity.ratelimit import limiter
from cityos.identity.sms import get_sender
from cityos.people import validation
from cityos.people.models import Person

SESSION_HOURS = 8
CODE_ATTEMPTS = 5

MSG_INVALID = N_("The username or password is not correct.")
MSG_LOCKED = N_("Too many failed attempts: this account is locked until {until}.")
MSG_RATE = N_("Too many attempts. Please try again in {seconds} seconds.")
MSG_CODE_INVALID = N_("The code is not correct or has expired. Request a new one.")
MSG_NO_RESIDENT = N_("No resident record uses this number. Ask your community office to register it.")
MSG_CODE_SMS = N_("Your cityos sign-in code is {code}. It expires in {minutes} minutes. Do not tell anyone.")
MSG_INACTIVE = N_("This account has been switched off. Ask your administrator.")


@dataclass(frozen=True)
class SignIn:
    """The account on success; otherwise an untranslated message and its parameters."""

    account: Account | None
    message: str = ""
    params: dict[str, Any] | None = None
    status: int = 401

    @property
    def ok(self) -> bool:
        return self.account is not None

    def text(self) -> str:
        return translate(self.message, **(self.params or {}))


def _client_label(name: str) -> str:
    return name[:64] or "?"


def _ip(ip: str | None) -> str:
    return ip or "unknown"


def _fail(session: Session, label: str, action: str, outcome: str, detail: str | None = None) -> None:
    anonymous = Actor(account_id=None, label=label, roles=frozenset(), permissions=frozenset())
    audit.record(session, anonymous, action, outcome=outcome, detail=detail)


def _rate_limited(session: Session, key: str, *, limit: int, seconds: float, label: str, action: str) -> SignIn | None:
    try:
        limiter.hit(key, limit=limit, seconds=seconds)
    except RateLimited as exc:
        _fail(session, label, action, "rate_limited")
        return SignIn(None, MSG_RATE, {"seconds": exc.params["retry_after"]}, status=429)
    return None


def _succeed(session: Session, account: Account, action: str) -> SignIn:
    account.failed_attempts = 0
    account.locked_until = None
    account.last_sign_in_at = utcnow()
    audit.record(session, actor_for_account(session, account), action)
    session.flush()
    return SignIn(account)


# --- password ----------------------------------------------------------------------------------------


def sign_in_password(session: Session, *, username: str, password: str, ip: str | None) -> SignIn:
    """Staff sign-in. Wrong password and unknown username give the same answer; after
    ``signin_max_failures`` failures in a row the account is locked for ``signin_lock_minutes``."""
    settings = get_settings()
    name = username.strip().lower()
    limited = _rate_limited(
        session,
        f"signin:{_ip(ip)}:{name}",
        limit=settings.signin_rate_per_minute,
        seconds=60,
        label=_client_label(name),
        action="signin",
    )
    if limited:
        return limited
    account = session.scalar(select(Account).where(Account.username == name)) if name else None
    now = utcnow()
    if account is not None and account.locked_until is not None and account.locked_until > now:
        _fail(session, _client_label(name), "signin", "locked")
        return SignIn(None, MSG_LOCKED, {"until": _local_time(account.locked_until)}, status=423)
    if not passwords.verify(account.password_hash if account else None, password) or account is None:
        if account is not None:
            account.failed_attempts = (account.failed_attempts or 0) + 1
            if account.failed_attempts >= settings.signin_max_failures:
                account.locked_until = now + timedelta(minutes=settings.signin_lock_minutes)
                account.failed_attempts = 0
                _fail(session, _client_label(name), "signin", "failed", detail="locked")
                session.flush()
                return SignIn(None, MSG_LOCKED, {"until": _local_time(account.locked_until)}, status=423)
        _fail(session, _client_label(name), "signin", "failed", detail=None if account else "unknown account")
        session.flush()
        return SignIn(None, MSG_INVALID)
    if not account.active:
        _fail(session, _client_label(name), "signin", "inactive")
        return SignIn(None, MSG_INACTIVE, status=403)
    if account.password_hash and passwords.needs_rehash(account.password_hash):
        account.password_hash = passwords.hash_password(password)
    return _succeed(session, account, "signin")


def _local_time(moment: datetime) -> str:
    """A lock's end as the city's wall-clock time (HH:MM)."""
    return moment.astimezone(ZoneInfo(get_settings().timezone)).strftime("%H:%M")


# --- one-time codes -------------------------------------------------------------------------------------


def _phone(phone: str) -> str:
    value = validation.normalise_phone(phone)
    error = validation.phone_error(value)
    if error:
        raise Invalid(details=[FieldError("phone", error)])
    return value


def _code_hash(phone_hash: str, code: str) -> str:
    return blind_index().digest(f"{phone_hash}:{code}", purpose="otp")


def request_code(session: Session, *, phone: str, ip: str | None) -> SignIn | None:
    """Send a sign-in code to a phone that has an account or a resident record. The answer is
    the same whether or not it has one, so the form cannot be used to find who is registered.
    Returns a failure only when rate-limited."""
    settings = get_settings()
    number = _phone(phone)
    phone_hash = blind_index().digest(number, purpose="phone")
    for key, limit, seconds in ((f"otp:{phone_hash}", 1, 60), (f"otp-hour:{phone_hash}", 5, 3600)):
        limited = _rate_limited(session, key, limit=limit, seconds=seconds, label="phone", action="signin.code")
        if limited:
            return limited
    limited = _rate_limited(session, f"otp-ip:{_ip(ip)}", limit=30, seconds=3600, label="phone", action="signin.code")
    if limited:
        return limited
    known = session.scalar(select(Account.id).where(Account.phone_hash == phone_hash)) or session.scalar(
        select(Person.id).where(Person.phone_hash == phone_hash).limit(1)
    )
    if known is None:
        return None
    code = f"{secrets.randbelow(1_000_000):06d}"
    session.execute(
        update(OneTimeCode)
        .where(OneTimeCode.phone_hash == phone_hash, OneTimeCode.used_at.is_(None))
        .values(used_at=utcnow())
    )
    session.add(
        OneTimeCode(
            phone_hash=phone_hash,
            code_hash=_code_hash(phone_hash, code),
            expires_at=utcnow() + timedelta(minutes=settings.otp_minutes),
            attempts=0,
        )
    )
    body = translate(MSG_CODE_SMS, code=code, minutes=settings.otp_minutes)
    get_sender(settings.sms_sender).send(session, number, body)
    session.flush()
    return None


def sign_in_code(session: Session, *, phone: str, code: str, ip: str | None) -> SignIn:
    """Resident sign-in with the code sent by SMS; the first sign-in of a registered resident
    creates their account."""
    number = _phone(phone)
    phone_hash = blind_index().digest(number, purpose="phone")
    limited = _rate_limited(
        session,
        f"otp-verify:{_ip(ip)}",
        limit=get_settings().signin_rate_per_minute,
        seconds=60,
        label="phone",
        action="signin.code",
    )
    if limited:
        return limited
    now = utcnow()
    row = session.scalar(
        select(OneTimeCode)
        .where(OneTimeCode.phone_hash == phone_hash, OneTimeCode.used_at.is_(None), OneTimeCode.expires_at > now)
        .order_by(OneTimeCode.id.desc())
        .limit(1)
    )
    if row is None or row.attempts >= CODE_ATTEMPTS:
        _fail(session, "phone", "signin.code", "failed")
        return SignIn(None, MSG_CODE_INVALID)
    row.attempts += 1
    if not hmac.compare_digest(row.code_hash, _code_hash(phone_hash, code.strip())):
        _fail(session, "phone", "signin.code", "failed")
        session.flush()
        return SignIn(None, MSG_CODE_INVALID)
    row.used_at = now
    account = session.scalar(select(Account).where(Account.phone_hash == phone_hash))
    if account is None:
        person = session.scalar(select(Person).where(Person.phone_hash == phone_hash).order_by(Person.id).limit(1))
        if person is None or person.region_id is None or person.region_path is None:
            _fail(session, "phone", "signin.code", "failed", detail="no resident record")
            session.flush()
            return SignIn(None, MSG_NO_RESIDENT)
        account = Account(
            username=None,
            phone_hash=phone_hash,
            display_name=person.name,
            person_id=person.id,
            scope_region_id=person.region_id,
            scope_path=person.region_path,
            active=True,
            failed_attempts=0,
        )
        session.add(account)
        session.flush()
        session.add(AccountRole(account_id=account.id, role=Role.RESIDENT.value))
        session.flush()
    if not account.active:
        _fail(session, "phone", "signin.code", "inactive")
        return SignIn(None, MSG_INACTIVE, status=403)
    return _succeed(session, account, "signin.code")


# --- tokens and sessions -----------------------------------------------------------------------------


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int


def issue_tokens(session: Session, account: Account) -> TokenPair:
    settings = get_settings()
    access, _ = tokens.issue("access", str(account.id), timedelta(minutes=settings.access_token_minutes))
    refresh, claims = tokens.issue("refresh", str(account.id), timedelta(days=settings.refresh_token_days))
    session.add(RefreshToken(jti=claims.jti, account_id=account.id, expires_at=claims.expires_at))
    session.flush()
    return TokenPair(access, refresh, settings.access_token_minutes * 60)


@dataclass(frozen=True)
class Refreshed:
    pair: TokenPair | None
    message: str = ""


MSG_REFRESH_INVALID = N_("The sign-in token is not valid.")


def refresh(session: Session, token: str) -> Refreshed:
    """Trade a refresh token for a new pair (rotation). A refresh token used twice means it was
    copied: every refresh token of the account is revoked and the account must sign in again."""
    claims = tokens.decode(token, expect="refresh")
    row = session.scalar(select(RefreshToken).where(RefreshToken.jti == claims.jti))
    account = session.get(Account, int(claims.subject))
    if row is None or account is None or not account.active:
        return Refreshed(None, MSG_REFRESH_INVALID)
    if row.revoked_at is not None:
        session.execute(
            update(RefreshToken)
            .where(RefreshToken.account_id == account.id, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )
        audit.record(session, actor_for_account(session, account), "token.reuse", outcome="denied")
        actor_cache.forget(account_id=account.id)
        session.flush()
        return Refreshed(None, MSG_REFRESH_INVALID)
    row.revoked_at = utcnow()
    session.flush()
    return Refreshed(issue_tokens(session, account))


def revoke(session: Session, token: str, *, expect: tokens.TokenKind = "refresh") -> None:
    """Sign out: the refresh token (API) or page session (cookie) stops working."""
    claims = tokens.decode(token, expect=expect)
    row = session.scalar(select(RefreshToken).where(RefreshToken.jti == claims.jti))
    if row is not None and row.revoked_at is None:
        row.revoked_at = utcnow()
        account = session.get(Account, row.account_id)
        if account is not None:
            audit.record(session, actor_for_account(session, account), "signout")
    actor_cache.forget(account_id=int(claims.subject))
    session.flush()


def issue_session(session: Session, account: Account) -> tuple[str, int]:
    """A page-session token for the cookie, recorded so that signing out ends it."""
    token, claims = tokens.issue("session", str(account.id), timedelta(hours=SESSION_HOURS))
    session.add(RefreshToken(jti=claims.jti, account_id=account.id, expires_at=claims.expires_at))
    session.flush()
    return token, SESSION_HOURS * 3600
