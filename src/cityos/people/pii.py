"""Personal data at rest and on the way out: encrypt, index, mask, and the audited reveal.

Identity numbers and phones are stored AES-GCM encrypted (the field name is the associated
data, so a ciphertext cannot be moved to another column) with an HMAC blind index for exact
lookup. Reads are masked; ``reveal`` is the only way to plaintext and it writes an audit row.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from cityos.core import audit
from cityos.core.actor import Actor
from cityos.core.runtime import blind_index, field_cipher
from cityos.people.models import Person

ID_CONTEXT = "person.id_number"
PHONE_CONTEXT = "person.phone"
ID_PURPOSE = "id_number"
PHONE_PURPOSE = "phone"


@dataclass(frozen=True)
class Sealed:
    ciphertext: str
    digest: str


def seal_id_number(value: str) -> Sealed:
    return Sealed(field_cipher().encrypt(value, context=ID_CONTEXT), id_number_digest(value))


def seal_phone(value: str) -> Sealed:
    return Sealed(field_cipher().encrypt(value, context=PHONE_CONTEXT), phone_digest(value))


def id_number_digest(value: str) -> str:
    return blind_index().digest(value, purpose=ID_PURPOSE)


def phone_digest(value: str) -> str:
    return blind_index().digest(value, purpose=PHONE_PURPOSE)


def mask_id_number(value: str) -> str:
    """510104********123X: the area stays (it says where, not who), birth date and sequence go."""
    return value[:6] + "*" * 8 + value[-4:] if len(value) == 18 else "*" * len(value)


def mask_name(name: str) -> str:
    """张三 → 张*, 欧阳娜娜 → 欧***: the first character stays, the rest is starred (a one-character
    name is starred whole). Names in lists are shown so unless the reader may see them."""
    clean = (name or "").strip()
    if len(clean) <= 1:
        return "*" if clean else ""
    return clean[0] + "*" * (len(clean) - 1)


def mask_phone(value: str) -> str:
    return value[:3] + "****" + value[-4:] if len(value) == 11 else "*" * len(value)


@dataclass(frozen=True)
class Revealed:
    person_id: int
    id_number: str | None
    phone: str | None


def reveal(session: Session, actor: Actor, person: Person, *, reason: str | None = None) -> Revealed:
    """Plaintext identity number and phone of one person; the caller has checked ``pii:read``.

    The audit row is written in the same transaction, so a read that fails leaves no record
    and a record never exists without the read it describes.
    """
    cipher = field_cipher()
    id_number = cipher.decrypt(person.id_number_enc, context=ID_CONTEXT) if person.id_number_enc else None
    phone = cipher.decrypt(person.phone_enc, context=PHONE_CONTEXT) if person.phone_enc else None
    fields = [name for name, value in (("id_number", id_number), ("phone", phone)) if value is not None]
    audit.record(
        session,
        actor,
        "pii.read",
        subject_type="person",
        subject_id=person.id,
        fields=fields,
        detail=reason[:200] if reason else None,
    )
    return Revealed(person.id, id_number, phone)


def masked(person: Person) -> Revealed:
    """Masked identity number and phone; decrypts in memory only to keep the visible digits."""
    cipher = field_cipher()
    id_number = cipher.decrypt(person.id_number_enc, context=ID_CONTEXT) if person.id_number_enc else None
    phone = cipher.decrypt(person.phone_enc, context=PHONE_CONTEXT) if person.phone_enc else None
    return Revealed(
        person.id,
        mask_id_number(id_number) if id_number else None,
        mask_phone(phone) if phone else None,
    )
