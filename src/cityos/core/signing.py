"""Ed25519 signing keys kept in the database (private halves field-encrypted)."""

from __future__ import annotations

import base64
import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from cityos.core.crypto import SigningKeyPair, verify_signature
from cityos.core.models import SigningKey
from cityos.core.runtime import field_cipher


def active_key(session: Session, purpose: str) -> SigningKeyPair:
    """The current key for ``purpose``, created on first use."""
    row = session.scalar(
        select(SigningKey)
        .where(SigningKey.purpose == purpose, SigningKey.retired_at.is_(None))
        .order_by(SigningKey.id.desc())
        .limit(1)
    )
    if row is None:
        pair = SigningKeyPair.generate(f"{purpose}-{uuid.uuid4().hex[:12]}")
        row = SigningKey(
            kid=pair.kid,
            purpose=purpose,
            public_key=base64.b64encode(pair.public_bytes()).decode(),
            private_key_enc=field_cipher().encrypt(
                base64.b64encode(pair.private_bytes()).decode(), context=f"signing:{pair.kid}"
            ),
        )
        session.add(row)
        session.flush()
        return pair
    raw = base64.b64decode(field_cipher().decrypt(row.private_key_enc, context=f"signing:{row.kid}"))
    return SigningKeyPair.from_private_bytes(row.kid, raw)


def sign(session: Session, purpose: str, message: bytes) -> tuple[str, str]:
    """Sign ``message``; returns (key id, base64 signature)."""
    pair = active_key(session, purpose)
    return pair.kid, base64.b64encode(pair.sign(message)).decode()


def verify(session: Session, kid: str, message: bytes, signature_b64: str) -> bool:
    row = session.scalar(select(SigningKey).where(SigningKey.kid == kid))
    if row is None:
        return False
    try:
        signature = base64.b64decode(signature_b64, validate=True)
    except ValueError:
        return False
    return verify_signature(base64.b64decode(row.public_key), message, signature)
