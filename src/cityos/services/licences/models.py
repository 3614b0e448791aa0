"""电子证照: credential kinds, credentials signed with Ed25519, and the record of every use."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cityos.core.db import Base, JSONType, UTCDateTime, utcnow


class CredentialKind(Base):
    """A kind of e-licence (居民身份证, 户口簿, 结婚证, 出生医学证明, 营业执照 …). ``fields`` lists
    the data it carries: ``[{"key": "name", "title": "姓名"}, …]``."""

    __tablename__ = "credential_kind"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    issuer_department_kind: Mapped[str] = mapped_column(String(16))
    holder: Mapped[str] = mapped_column(String(16), default="person")  # person | organisation
    validity_days: Mapped[int | None] = mapped_column(Integer, nullable=True)  # None: no expiry
    fields: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)


class Credential(Base):
    """An issued e-licence. ``data_enc`` is the field-encrypted JSON of its data (it often holds
    identity numbers); the signature covers the canonical JSON of no, kind, holder, data and dates."""

    __tablename__ = "credential"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    no: Mapped[str] = mapped_column(String(40), unique=True)  # 证照编号
    kind_code: Mapped[str] = mapped_column(ForeignKey("credential_kind.code"), index=True)
    holder_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), nullable=True, index=True)
    holder_organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), nullable=True, index=True)
    issuer_department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"), nullable=True)
    data_enc: Mapped[str] = mapped_column(Text)
    kid: Mapped[str] = mapped_column(String(64))
    signature: Mapped[str] = mapped_column(Text)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_reason: Mapped[str | None] = mapped_column(String(255), nullable=True)
    # What it was issued for, e.g. "application:12" (办件) or "registry" (人口登记); not signed.
    subject: Mapped[str] = mapped_column(String(64), default="")


class CredentialUse(Base):
    """Consent given by the holder each time a credential is used (用证授权): who, for what."""

    __tablename__ = "credential_use"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    credential_id: Mapped[int] = mapped_column(ForeignKey("credential.id", ondelete="CASCADE"), index=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"), nullable=True)
    purpose: Mapped[str] = mapped_column(String(128))
    subject_type: Mapped[str] = mapped_column(String(32), default="")
    subject_id: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
