"""Photos of a case (随手拍): stored once under their SHA-256 in the upload folder, listed with the
case, and served only to those who may see the case."""

from __future__ import annotations

import hashlib
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from cityos.cases.models import Case, CaseAttachment
from cityos.cases.service import get_case
from cityos.core.actor import Actor
from cityos.core.errors import FieldError, Invalid, NotFound
from cityos.core.i18n import N_

PHOTO_TYPES = {"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp"}
_MAGIC = {b"\xff\xd8\xff": "image/jpeg", b"\x89PNG": "image/png", b"RIFF": "image/webp"}
MSG_PHOTO_TYPE = N_("A photo must be a JPEG, PNG or WebP image.")
MSG_PHOTO_SIZE = N_("A photo may be at most {mb} MB.")


def attach_photo(
    session: Session, actor: Actor, *, case: Case, content: bytes, filename: str, upload_dir: Path, max_bytes: int
) -> CaseAttachment:
    """Store a photo of a case under its SHA-256 (the same photo twice is stored once)."""
    kind = next((t for magic, t in _MAGIC.items() if content.startswith(magic)), None)
    if kind is None:
        raise Invalid(details=[FieldError("photo", MSG_PHOTO_TYPE)])
    if len(content) > max_bytes:
        raise Invalid(details=[FieldError("photo", MSG_PHOTO_SIZE, {"mb": max_bytes // (1024 * 1024)})])
    digest = hashlib.sha256(content).hexdigest()
    path = upload_dir / digest[:2] / (digest + PHOTO_TYPES[kind])
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".part")
        tmp.write_bytes(content)
        tmp.replace(path)
    row = CaseAttachment(
        case_id=case.id,
        sha256=digest,
        media_type=kind,
        size=len(content),
        filename=filename[-128:],
        uploaded_by=actor.label[:128],
    )
    session.add(row)
    session.flush()
    return row


def photos(session: Session, case: Case) -> list[CaseAttachment]:
    return list(
        session.scalars(select(CaseAttachment).where(CaseAttachment.case_id == case.id).order_by(CaseAttachment.id))
    )


def photo_path(session: Session, actor: Actor, *, attachment_id: int, upload_dir: Path) -> tuple[Path, str]:
    """The file of a photo the actor may see (through its case)."""
    row = session.get(CaseAttachment, attachment_id)
    if row is None:
        raise NotFound()
    get_case(session, actor, row.case_id)
    return upload_dir / row.sha256[:2] / (row.sha256 + PHOTO_TYPES[row.media_type]), row.media_type
