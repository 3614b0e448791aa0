"""API schemas of services.applications. Form values are masked (identity numbers, phones)
unless the caller holds ``pii:read``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class DraftCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    item_code: str = Field(max_length=32)
    person_id: int | None = None  # a clerk filing for a resident (代办)
    channel: str = Field(default="online", max_length=16)


class FormIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    form: dict[str, Any] = Field(default_factory=dict)


class SubmitIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    form: dict[str, Any] | None = None
    consent: bool = False


class BundleSubmitIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    form: dict[str, Any] = Field(default_factory=dict)
    consent: bool = False
    person_id: int | None = None
    channel: str = Field(default="online", max_length=16)


class ActIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    comment: str | None = Field(default=None, max_length=4000)


class SupplementItem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str = Field(max_length=64)
    reason: str = Field(max_length=2000)


class SupplementIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    items: list[SupplementItem] = Field(max_length=100)


class RatingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    level: int
    comment: str | None = Field(default=None, max_length=2000)


class RatingRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    level: int
    comment: str | None
    revision: int
    created_at: datetime


class ApplicationRead(BaseModel):
    id: int
    no: str
    item_code: str
    bundle_code: str | None
    bundle_group: str | None
    applicant_person_id: int | None
    applicant_organisation_id: int | None
    filed_by_account_id: int | None
    channel: str
    region_id: int | None
    status: str
    form: dict[str, Any]
    credential_ids: list[int]
    zero_material: bool
    department_ids: list[int]
    result_credential_id: int | None
    decision_note: str | None
    rating: int | None
    created_at: datetime
    submitted_at: datetime | None
    due_at: datetime | None
    decided_at: datetime | None


class ApplicationPage(BaseModel):
    items: list[ApplicationRead]
    page: int
    size: int
    total: int | None = None


class SupplementRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    application_id: int
    items: list[dict[str, Any]]
    department_id: int | None
    created_at: datetime
    answered_at: datetime | None


class PartyRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    name: str
    done: bool
    decision: str | None
    at: datetime | None


class StepRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    key: str
    title: str
    holder: str
    holder_kind: str
    since: datetime | None
    deadline: datetime | None
    done: bool
    current: bool
    by: str
    comment: str | None
    parties: list[PartyRead]


class MaterialRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    key: str
    title: str
    required: bool
    credential_kind: str | None
    field: str | None
    credential_id: int | None
    credential_no: str | None
    proved: bool


class CredentialUsed(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    no: str
    kind_code: str
    kind_name: str


class PrefillRead(BaseModel):
    item_code: str
    person_id: int | None
    organisation_id: int | None
    values: dict[str, Any]
    locked: dict[str, str]
    materials: list[MaterialRead]
    credentials: list[CredentialUsed]
    missing: list[str]
