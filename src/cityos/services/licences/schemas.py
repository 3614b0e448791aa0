"""API schemas of services.licences (电子证照)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class KindField(BaseModel):
    key: str
    title: str
    type: str = "text"
    required: bool = True


class CredentialKindRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name: str
    issuer_department_kind: str
    holder: str
    validity_days: int | None
    fields: list[KindField]


class CredentialCreate(BaseModel):
    """Issue a credential. The data's keys are the kind's field keys."""

    model_config = ConfigDict(extra="forbid")

    kind_code: str = Field(max_length=32)
    data: dict[str, Any]
    holder_person_id: int | None = None
    holder_organisation_id: int | None = None
    issuer_department_id: int | None = None
    valid_days: int | None = None
    subject: str = Field(default="", max_length=64)


class RevokeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(max_length=255)


class CredentialRead(BaseModel):
    """One credential; ``data`` is masked unless the caller holds it (or reads personal data)."""

    id: int
    no: str
    kind_code: str
    kind_name: str
    state: str  # valid | expired | revoked
    holder_person_id: int | None
    holder_organisation_id: int | None
    holder_name: str
    issuer_department_id: int | None
    issuer_name: str
    issued_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    revoked_reason: str | None
    data: dict[str, str]
    masked: bool


class CredentialUseRead(BaseModel):
    id: int
    purpose: str
    subject_type: str
    subject_id: str
    by: str
    created_at: datetime


class VerificationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: str = Field(max_length=1000)


class VerificationRead(BaseModel):
    valid: bool
    reason: str
    message: str
    no: str | None = None
    kind_code: str | None = None
    kind_name: str | None = None
    holder_name: str | None = None
    issuer_name: str | None = None
    issued_at: datetime | None = None
    expires_at: datetime | None = None
    revoked_at: datetime | None = None
    token_expires_at: datetime | None = None
