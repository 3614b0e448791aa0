"""亮证 and 验证: a short-lived signed presentation code for a QR, and the verification anyone may
ask for without an account. The answer never carries the credential's data."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from cityos.core import signing
from cityos.core.db import utcnow
from cityos.core.errors import FieldError, Invalid
from cityos.core.i18n import N_
from cityos.services.licences.models import Credential
from cityos.services.licences.signed import KEY_PURPOSE, names, signature_ok, state_of, verify_bytes

MIN_TTL, MAX_TTL = 30, 3600
MSG_TOKEN = N_("Paste the code from the QR or the credential number.")
MSG_TTL = N_("A presentation code lives from {min} to {max} seconds.")


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def presentation_token(
    session: Session, credential: Credential, *, ttl_seconds: int = 300, now: datetime | None = None
) -> str:
    """A compact signed code for a QR (亮证): base64url payload ``{"n": no, "x": expiry, "k": key
    id}``, a dot, the base64url Ed25519 signature. It proves the credential without its data."""
    if not MIN_TTL <= ttl_seconds <= MAX_TTL:
        raise Invalid(details=[FieldError("ttl_seconds", MSG_TTL, {"min": MIN_TTL, "max": MAX_TTL})])
    kid = signing.active_key(session, KEY_PURPOSE).kid
    expires = int((now or utcnow()).timestamp()) + ttl_seconds
    payload = json.dumps({"n": credential.no, "x": expires, "k": kid}, separators=(",", ":"), sort_keys=True).encode()
    kid_used, signature = signing.sign(session, KEY_PURPOSE, payload)
    assert kid_used == kid  # the same transaction: the active key cannot have changed
    return f"{_b64(payload)}.{_b64(base64.b64decode(signature))}"


@dataclass(frozen=True)
class Verification:
    """The answer a verifier sees (验证结果). ``reason``: ok | unknown | bad_signature | expired
    | revoked | token_expired. Personal data never appears: the holder's name is masked."""

    valid: bool
    reason: str
    no: str | None = None
    kind_code: str | None = None
    kind_name: str | None = None
    holder_name: str | None = None
    issuer_name: str | None = None
    issued_at: datetime | None = None
    expires_at: datetime | None = None
    revoked_at: datetime | None = None
    token_expires_at: datetime | None = None


REASONS: dict[str, str] = {
    "ok": N_("Valid: issued and signed by the platform, not revoked, not expired."),
    "unknown": N_("Not found: no credential has this number, or the code is damaged."),
    "bad_signature": N_("Forged or altered: the signature does not match."),
    "expired": N_("Expired: the credential is past its validity date."),
    "revoked": N_("Revoked: the issuing department has revoked this credential."),
    "token_expired": N_("This code has expired: ask the holder to show a fresh one."),
}


def verify(session: Session, token_or_no: str, *, now: datetime | None = None) -> Verification:
    """Check a presentation code or a credential number; anyone may ask (no account)."""
    text = (token_or_no or "").strip()
    at = now or utcnow()
    if not text or len(text) > 1000:
        raise Invalid(details=[FieldError("token", MSG_TOKEN)])
    token_expires: datetime | None = None
    if "." in text:
        head, _, tail = text.partition(".")
        try:
            payload_bytes = _unb64(head)
            payload = json.loads(payload_bytes)
            no, expiry, kid = str(payload["n"]), int(payload["x"]), str(payload["k"])
            signature = _unb64(tail)
        except (ValueError, KeyError, TypeError, binascii.Error):
            return Verification(False, "unknown")
        if not verify_bytes(session, kid, payload_bytes, signature):
            return Verification(False, "bad_signature")
        token_expires = datetime.fromtimestamp(expiry, UTC)
    else:
        no = text
    credential = session.scalar(select(Credential).where(Credential.no == no))
    if credential is None:
        return Verification(False, "unknown")
    if not signature_ok(session, credential):
        return Verification(False, "bad_signature", no=credential.no)
    found = names(session, [credential])
    state = state_of(credential, at)
    if state == "valid" and token_expires is not None and token_expires <= at:
        state = "token_expired"
    return Verification(
        valid=state == "valid",
        reason="ok" if state == "valid" else state,
        no=credential.no,
        kind_code=credential.kind_code,
        kind_name=found.kind(credential),
        holder_name=found.holder(credential),
        issuer_name=found.issuer(credential) or None,
        issued_at=credential.issued_at,
        expires_at=credential.expires_at,
        revoked_at=credential.revoked_at,
        token_expires_at=token_expires,
    )
