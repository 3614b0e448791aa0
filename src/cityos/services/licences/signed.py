"""A credential's protected form: its data field-encrypted, its canonical JSON signed with the
platform's Ed25519 key of purpose ``credential``; masking for reads; validity state; names for
showing lists. No permission checks here: ``service`` does those."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from cityos.core.crypto import DecryptionError, verify_signature
from cityos.core.db import utcnow
from cityos.core.models import SigningKey
from cityos.core.runtime import field_cipher
from cityos.people import pii
from cityos.people.models import Department, Organisation, Person
from cityos.people.pii import mask_name
from cityos.services.licences import kinds as shipped
from cityos.services.licences.models import Credential, CredentialKind

KEY_PURPOSE = "credential"

# Public halves by key id. A key id names one key for ever (it carries a random part), so a
# cached public key can never go stale; this saves a query on every check of a credential.
_public_keys: dict[str, bytes] = {}


def verify_bytes(session: Session, kid: str, message: bytes, signature: bytes) -> bool:
    """Whether ``signature`` is the platform key ``kid``'s Ed25519 signature of ``message``."""
    public = _public_keys.get(kid)
    if public is None:
        stored = session.scalar(select(SigningKey.public_key).where(SigningKey.kid == kid))
        if stored is None:
            return False
        public = _public_keys.setdefault(kid, base64.b64decode(stored))
    return verify_signature(public, message, signature)


def context(no: str) -> str:
    return f"credential:{no}"


def _stamp(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def canonical_bytes(
    *,
    no: str,
    kind_code: str,
    holder_person_id: int | None,
    holder_organisation_id: int | None,
    issuer_department_id: int | None,
    data: dict[str, str],
    issued_at: datetime,
    expires_at: datetime | None,
) -> bytes:
    """What the signature covers: sorted keys, no spaces, UTF-8."""
    doc = {
        "no": no,
        "kind": kind_code,
        "holder_person_id": holder_person_id,
        "holder_organisation_id": holder_organisation_id,
        "issuer_department_id": issuer_department_id,
        "data": data,
        "issued_at": _stamp(issued_at),
        "expires_at": _stamp(expires_at),
    }
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def canonical_of(credential: Credential, data: dict[str, str]) -> bytes:
    return canonical_bytes(
        no=credential.no,
        kind_code=credential.kind_code,
        holder_person_id=credential.holder_person_id,
        holder_organisation_id=credential.holder_organisation_id,
        issuer_department_id=credential.issuer_department_id,
        data=data,
        issued_at=credential.issued_at,
        expires_at=credential.expires_at,
    )


def data_of(credential: Credential) -> dict[str, str]:
    """The credential's data in clear (decrypted in memory; never log it)."""
    raw = field_cipher().decrypt(credential.data_enc, context=context(credential.no))
    value = json.loads(raw)
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}


def mask_value(kind_code: str, key: str, value: str) -> str:
    kind = shipped.field_type(kind_code, key)
    if kind == "id_number":
        return pii.mask_id_number(value)
    if kind == "phone":
        return pii.mask_phone(value)
    return value


def masked_data(credential: Credential) -> dict[str, str]:
    """The data with identity numbers and phones masked like the population registry's."""
    return {k: mask_value(credential.kind_code, k, v) for k, v in data_of(credential).items()}


def signature_ok(session: Session, credential: Credential) -> bool:
    """Whether the stored data, holder, issuer and dates are exactly what was signed."""
    try:
        data = data_of(credential)
    except (DecryptionError, ValueError, binascii.Error):
        return False
    try:
        signature = base64.b64decode(credential.signature, validate=True)
    except (ValueError, binascii.Error):
        return False
    return verify_bytes(session, credential.kid, canonical_of(credential, data), signature)


def state_of(credential: Credential, now: datetime | None = None) -> str:
    """valid | expired | revoked, at ``now``."""
    if credential.revoked_at is not None:
        return "revoked"
    if credential.expires_at is not None and credential.expires_at <= (now or utcnow()):
        return "expired"
    return "valid"


@dataclass(frozen=True)
class Names:
    kinds: dict[str, str]
    departments: dict[int, str]
    people: dict[int, str]
    organisations: dict[int, str]

    def holder(self, credential: Credential, *, masked: bool = True) -> str:
        if credential.holder_person_id is not None:
            name = self.people.get(credential.holder_person_id, "")
            return mask_name(name) if masked else name
        return self.organisations.get(credential.holder_organisation_id or 0, "")

    def issuer(self, credential: Credential) -> str:
        return self.departments.get(credential.issuer_department_id or 0, "")

    def kind(self, credential: Credential) -> str:
        return self.kinds.get(credential.kind_code, credential.kind_code)


def names(session: Session, credentials: list[Credential]) -> Names:
    """Kind, issuer and holder names for showing a list of credentials, in four queries at most."""
    kind_codes = {c.kind_code for c in credentials}
    dept_ids = {c.issuer_department_id for c in credentials if c.issuer_department_id is not None}
    person_ids = {c.holder_person_id for c in credentials if c.holder_person_id is not None}
    org_ids = {c.holder_organisation_id for c in credentials if c.holder_organisation_id is not None}
    kinds: dict[str, str] = {}
    depts: dict[int, str] = {}
    people: dict[int, str] = {}
    orgs: dict[int, str] = {}
    if kind_codes:
        q = select(CredentialKind.code, CredentialKind.name).where(CredentialKind.code.in_(kind_codes))
        kinds = {str(code): str(name) for code, name in session.execute(q)}
    if dept_ids:
        q2 = select(Department.id, Department.name).where(Department.id.in_(dept_ids))
        depts = {int(i): str(n) for i, n in session.execute(q2)}
    if person_ids:
        q3 = select(Person.id, Person.name).where(Person.id.in_(person_ids))
        people = {int(i): str(n) for i, n in session.execute(q3)}
    if org_ids:
        q4 = select(Organisation.id, Organisation.name).where(Organisation.id.in_(org_ids))
        orgs = {int(i): str(n) for i, n in session.execute(q4)}
    return Names(kinds, depts, people, orgs)
