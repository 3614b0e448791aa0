"""Sign-in, lockout, rate limits, one-time codes, token rotation and sessions."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityos.core.db import utcnow
from cityos.core.models import AuditRecord
from cityos.identity import passwords, service, tokens
from cityos.identity.models import Account, AccountRole, OneTimeCode, RefreshToken, SmsMessage
from tests.factories import World, make_account, make_person, make_world

PASSWORD = "correct-horse-42"


@pytest.fixture
def world(session: Session) -> World:
    return make_world(session)


@pytest.fixture
def staff(session: Session, world: World) -> Account:
    return make_account(
        session,
        roles=["grid_worker"],
        scope=world.grid1,
        username="wang",
        password_hash=passwords.hash_password(PASSWORD),
    )


def _audit(session: Session, action: str) -> list[tuple[str, str | None]]:
    return [
        (r.outcome, r.detail)
        for r in session.scalars(select(AuditRecord).where(AuditRecord.action == action).order_by(AuditRecord.id))
    ]


def test_password_sign_in(session: Session, staff: Account) -> None:
    result = service.sign_in_password(session, username=" WANG ", password=PASSWORD, ip="10.0.0.1")
    assert result.account is staff
    assert staff.last_sign_in_at is not None
    assert _audit(session, "signin") == [("ok", None)]


def test_wrong_password_and_unknown_user_look_the_same(session: Session, staff: Account) -> None:
    wrong = service.sign_in_password(session, username="wang", password="nope", ip="10.0.0.1")
    unknown = service.sign_in_password(session, username="nobody", password="nope", ip="10.0.0.1")
    assert wrong.account is None
    assert unknown.account is None
    assert wrong.text() == unknown.text()
    assert (wrong.status, unknown.status) == (401, 401)
    assert staff.failed_attempts == 1
    assert _audit(session, "signin") == [("failed", None), ("failed", "unknown account")]


def test_lockout_after_repeated_failures(session: Session, staff: Account) -> None:
    for _ in range(4):
        assert service.sign_in_password(session, username="wang", password="bad", ip="10.0.0.2").status == 401
    fifth = service.sign_in_password(session, username="wang", password="bad", ip="10.0.0.2")
    assert fifth.status == 423
    assert staff.locked_until is not None
    # Locked: even the right password is refused, without checking it.
    assert service.sign_in_password(session, username="wang", password=PASSWORD, ip="10.0.0.2").status == 423
    staff.locked_until = utcnow() - timedelta(seconds=1)  # the lock has run out
    assert service.sign_in_password(session, username="wang", password=PASSWORD, ip="10.0.0.2").ok
    assert staff.failed_attempts == 0


def test_rate_limit_per_address_and_username(session: Session, staff: Account) -> None:
    for _ in range(20):
        service.sign_in_password(session, username="ghost", password="x", ip="10.0.0.3")
    limited = service.sign_in_password(session, username="ghost", password="x", ip="10.0.0.3")
    assert limited.status == 429
    assert str(limited.params["seconds"]) in limited.text()  # type: ignore[index]
    # Another address is not affected.
    assert service.sign_in_password(session, username="wang", password=PASSWORD, ip="10.0.0.4").ok


def test_inactive_account_cannot_sign_in(session: Session, staff: Account) -> None:
    staff.active = False
    assert service.sign_in_password(session, username="wang", password=PASSWORD, ip=None).status == 403


def _last_code(session: Session) -> str:
    body = session.scalars(select(SmsMessage.body).order_by(SmsMessage.id.desc())).first()
    assert body is not None
    import re

    match = re.search(r"\d{6}", body)
    assert match is not None
    return match.group(0)


def test_resident_code_sign_in_creates_the_account(session: Session, world: World) -> None:
    person = make_person(session, name="居民乙", region=world.room, phone="13912345678")
    assert service.request_code(session, phone="139 1234 5678", ip="10.1.0.1") is None
    sms = session.scalars(select(SmsMessage)).one()
    assert sms.phone_masked == "139****5678"
    assert "13912345678" not in sms.phone_enc
    code = _last_code(session)
    assert code not in session.scalars(select(OneTimeCode.code_hash)).one()  # only a keyed hash is stored
    result = service.sign_in_code(session, phone="13912345678", code=code, ip="10.1.0.1")
    assert result.ok
    account = result.account
    assert account is not None
    assert (account.person_id, account.scope_path) == (person.id, world.room.path)
    assert session.scalars(select(AccountRole.role).where(AccountRole.account_id == account.id)).all() == ["resident"]
    # Single use.
    assert not service.sign_in_code(session, phone="13912345678", code=code, ip="10.1.0.1").ok


def test_unknown_number_gets_no_message_and_the_same_answer(session: Session, world: World) -> None:
    assert service.request_code(session, phone="13700000000", ip="10.1.0.2") is None
    assert session.scalar(select(func.count()).select_from(SmsMessage)) == 0


def test_code_attempts_expiry_and_resend_limit(session: Session, world: World) -> None:
    make_person(session, region=world.room, phone="13912345678")
    service.request_code(session, phone="13912345678", ip="10.1.0.3")
    code = _last_code(session)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        assert not service.sign_in_code(session, phone="13912345678", code=wrong, ip="10.1.0.3").ok
    # Five wrong tries use the code up, even for the right digits.
    assert not service.sign_in_code(session, phone="13912345678", code=code, ip="10.1.0.3").ok
    # A second code within a minute is refused.
    limited = service.request_code(session, phone="13912345678", ip="10.1.0.3")
    assert limited is not None
    assert limited.status == 429


def test_expired_code_is_refused(session: Session, world: World) -> None:
    make_person(session, region=world.room, phone="13912345678")
    service.request_code(session, phone="13912345678", ip=None)
    code = _last_code(session)
    row = session.scalars(select(OneTimeCode)).one()
    row.expires_at = utcnow() - timedelta(seconds=1)
    assert not service.sign_in_code(session, phone="13912345678", code=code, ip=None).ok


def test_refresh_rotation_and_reuse_detection(session: Session, staff: Account) -> None:
    first = service.issue_tokens(session, staff)
    second = service.refresh(session, first.refresh_token)
    assert second.pair is not None
    assert tokens.decode(second.pair.access_token, expect="access").subject == str(staff.id)
    # The first refresh token was rotated away; using it again revokes every token of the account.
    assert service.refresh(session, first.refresh_token).pair is None
    assert service.refresh(session, second.pair.refresh_token).pair is None
    live = session.scalar(
        select(func.count())
        .select_from(RefreshToken)
        .where(RefreshToken.account_id == staff.id, RefreshToken.revoked_at.is_(None))
    )
    assert live == 0
    # Both replays are on the record.
    assert _audit(session, "token.reuse") == [("denied", None), ("denied", None)]


def test_session_is_recorded_and_revocable(session: Session, staff: Account) -> None:
    token, max_age = service.issue_session(session, staff)
    assert max_age == 8 * 3600
    jti = tokens.decode(token, expect="session").jti
    assert session.scalar(select(RefreshToken.revoked_at).where(RefreshToken.jti == jti)) is None
    service.revoke(session, token, expect="session")
    assert session.scalar(select(RefreshToken.revoked_at).where(RefreshToken.jti == jti)) is not None


def test_password_policy() -> None:
    assert passwords.policy_error("short") == passwords.MSG_SHORT
    assert passwords.policy_error("1234567890") == passwords.MSG_DIGITS
    assert passwords.policy_error("long-enough-1") is None
