"""The pass token checked offline, the way a gate's firmware does with only the estate's public
key: a round trip, and forged, wrong-estate, expired, stale (screenshot), revoked and
blocked-room tokens refused with the right reason."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.orm import Session

from cityos.community.access import offline, service
from cityos.community.access.models import EntryPass
from cityos.core.errors import Conflict
from tests.community.access_fixtures import AccessWorld, make_access_world

NOW = datetime(2026, 12, 1, 2, 0, 3, tzinfo=UTC)


@pytest.fixture
def aw(session: Session) -> AccessWorld:
    return make_access_world(session)


@pytest.fixture
def entry_pass(session: Session, aw: AccessWorld) -> EntryPass:
    return service.issue_pass(session, aw.owner_actor, estate_id=aw.estate.id, now=NOW - timedelta(days=1))


def _check(session: Session, aw: AccessWorld, token: str, *, now: datetime = NOW, **kwargs: object) -> offline.Verdict:
    revocation = kwargs.pop("revocation", None) or service.revocation_list(session, aw.estate, now=now)
    return offline.verify_offline(
        token,
        public_key=service.estate_key(session, aw.estate.id).public_bytes(),
        revocation=revocation,  # type: ignore[arg-type]
        now=now,
        rotation=10,
        **kwargs,  # type: ignore[arg-type]
    )


def test_round_trip_with_only_the_public_key(session: Session, aw: AccessWorld, entry_pass: EntryPass) -> None:
    token = service.current_token(session, aw.owner_actor, pass_id=entry_pass.id, now=NOW)
    assert token.rotation == 10
    assert token.step == int(NOW.timestamp()) // 10
    assert 0 < token.refresh_in <= 10
    payload = offline.decode(token.token)
    assert payload == {
        "p": entry_pass.id,
        "e": aw.estate.id,
        "k": "r",
        "u": int(entry_pass.valid_until.timestamp()),
        "t": token.step,
        "r": aw.world.room.code,
    }
    verdict = _check(session, aw, token.token)
    assert verdict.ok, verdict
    assert (verdict.reason, verdict.pass_id, verdict.kind, verdict.room) == (
        "ok",
        entry_pass.id,
        "resident",
        aw.world.room.code,
    )
    # What a gate fetched as JSON works the same; the public key may be raw bytes or a key object.
    as_json = service.revocation_json(service.revocation_list(session, aw.estate, now=NOW))
    assert offline.verify_offline(
        token.token,
        public_key=offline.public_key_of(service.estate_key(session, aw.estate.id).public_bytes()),
        revocation=offline.RevocationList.from_json(as_json),
        now=NOW.timestamp(),
        rotation=10,
    ).ok
    # The published public key is that key.
    kid, public = service.public_key(session, aw.estate.id)
    assert kid.startswith(f"estate-gate:{aw.estate.id}-")
    assert len(public) == 44


def test_each_estate_has_its_own_key(session: Session, aw: AccessWorld) -> None:
    assert (
        service.estate_key(session, aw.estate.id).public_bytes()
        != service.estate_key(session, aw.other_estate.id).public_bytes()
    )


def test_forged_signature_is_refused(session: Session, aw: AccessWorld, entry_pass: EntryPass) -> None:
    token = service.sign_token(session, entry_pass, now=NOW).token
    head, _, sig = token.partition(".")
    # Someone else's key, same payload.
    forger = Ed25519PrivateKey.generate()
    payload = offline.decode(token)
    assert payload is not None
    forged = offline.encode(
        forger,
        pass_id=payload["p"],
        estate_id=payload["e"],
        kind="resident",
        valid_until=payload["u"] + 86400 * 365,
        step=payload["t"],
        room=payload["r"],
    )
    assert _check(session, aw, forged).reason == "bad_signature"
    # The real signature over an edited payload (a longer validity).
    edited = offline._b64(offline._unb64(head).replace(str(payload["u"]).encode(), str(payload["u"] + 9).encode()))
    assert _check(session, aw, f"{edited}.{sig}").reason == "bad_signature"
    # A truncated signature.
    assert _check(session, aw, f"{head}.{sig[:20]}").reason == "bad_signature"


@pytest.mark.parametrize("junk", ["", "abc", "a.b.c", "!!!.???", "eyJ4IjoxfQ.AAAA", "x" * 2000, "bnVsbA.AA"])
def test_malformed_tokens_are_refused(session: Session, aw: AccessWorld, junk: str) -> None:
    verdict = _check(session, aw, junk)
    assert not verdict.ok
    assert verdict.reason in ("malformed", "bad_signature")


def test_wrong_estate_is_refused(session: Session, aw: AccessWorld, entry_pass: EntryPass) -> None:
    token = service.sign_token(session, entry_pass, now=NOW).token
    other = offline.RevocationList(aw.other_estate.id)
    verdict = offline.verify_offline(
        token,
        public_key=service.estate_key(session, aw.other_estate.id).public_bytes(),
        revocation=other,
        now=NOW,
        rotation=10,
    )
    assert verdict.reason == "wrong_estate"


def test_expired_pass_is_refused(session: Session, aw: AccessWorld, entry_pass: EntryPass) -> None:
    later = entry_pass.valid_until + timedelta(seconds=1)
    token = service.sign_token(session, entry_pass, now=later).token  # signed without checks
    assert _check(session, aw, token, now=later).reason == "expired"
    with pytest.raises(Conflict):
        service.current_token(session, aw.owner_actor, pass_id=entry_pass.id, now=later)


def test_stale_time_step_is_refused_like_a_screenshot(session: Session, aw: AccessWorld, entry_pass: EntryPass) -> None:
    token = service.sign_token(session, entry_pass, now=NOW).token
    assert _check(session, aw, token, now=NOW + timedelta(seconds=10)).ok  # one step later: clock skew
    assert _check(session, aw, token, now=NOW - timedelta(seconds=10)).ok  # a gate whose clock is behind
    assert _check(session, aw, token, now=NOW + timedelta(seconds=20)).reason == "stale"  # the screenshot
    assert _check(session, aw, token, now=NOW + timedelta(hours=1)).reason == "stale"
    assert _check(session, aw, token, now=NOW - timedelta(seconds=20)).reason == "stale"  # from the future
    assert _check(session, aw, token, now=NOW + timedelta(seconds=20), skew_steps=2).ok


def test_revoked_pass_and_blocked_room_are_refused(session: Session, aw: AccessWorld, entry_pass: EntryPass) -> None:
    token = service.sign_token(session, entry_pass, now=NOW).token
    service.revoke_pass(session, aw.manager, pass_id=entry_pass.id, reason="丢失手机", now=NOW)
    assert _check(session, aw, token).reason == "revoked"
    assert _check(session, aw, token, revocation=offline.RevocationList(aw.estate.id)).ok  # an old list

    tenant_pass = service.issue_pass(session, aw.tenant_actor, estate_id=aw.estate.id, now=NOW)
    tenant_token = service.sign_token(session, tenant_pass, now=NOW).token
    service.block_room(session, aw.manager, estate_id=aw.estate.id, room_id=aw.world.room2.id, reason="隔离观察")
    verdict = _check(session, aw, tenant_token)
    assert verdict.reason == "blocked_room"
    assert verdict.detail == "隔离观察"


def test_revocation_list_since_and_compaction(session: Session, aw: AccessWorld, entry_pass: EntryPass) -> None:
    service.revoke_pass(session, aw.manager, pass_id=entry_pass.id, reason="测试", now=NOW)
    assert service.revocation_list(session, aw.estate, now=NOW).passes == frozenset({entry_pass.id})
    assert service.revocation_list(session, aw.estate, since=NOW + timedelta(seconds=1), now=NOW).passes == frozenset()
    assert service.revocation_list(session, aw.estate, since=NOW - timedelta(seconds=1), now=NOW).passes == {
        entry_pass.id
    }
    # Once the pass would have expired anyway it leaves the list.
    assert service.revocation_list(session, aw.estate, now=entry_pass.valid_until).passes == frozenset()
    assert service.revocation_list(session, aw.other_estate, now=NOW).passes == frozenset()
