"""API shapes of the data catalogue: datasets, requests, grants, records, usage and the read log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class FieldSpec(BaseModel):
    name: str = Field(max_length=64)
    type: str = Field("string", max_length=16)
    description: str = Field("", max_length=255)
    sensitivity: str = Field("none", max_length=16)


class DatasetCreate(BaseModel):
    code: str = Field(max_length=64)
    name: str = Field(max_length=128)
    description: str = Field("", max_length=4000)
    access_class: str = Field("shared", max_length=16)
    kind: str = Field("table", max_length=16)
    source: str = Field("", max_length=255)
    tenant: str = Field("default", max_length=64)
    fields: list[FieldSpec] | None = Field(None, max_length=200)
    frequency: str = Field("daily", max_length=16)
    tags: list[str] = Field(default_factory=list, max_length=20)
    department_id: int | None = None  # an administrator publishes for a department
    file_text: str | None = Field(None, max_length=8 * 1024 * 1024)  # a file dataset's CSV or JSON
    file_name: str | None = Field(None, max_length=255)


class DatasetUpdate(BaseModel):
    name: str | None = Field(None, max_length=128)
    description: str | None = Field(None, max_length=4000)
    access_class: str | None = Field(None, max_length=16)
    fields: list[FieldSpec] | None = Field(None, max_length=200)
    frequency: str | None = Field(None, max_length=16)
    tags: list[str] | None = Field(None, max_length=20)


class DatasetRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    name: str
    description: str
    department_id: int
    access_class: str
    kind: str
    source: str
    fields: list[dict[str, Any]]
    frequency: str
    tags: list[str]
    status: str
    version: int
    file_name: str | None
    file_rows: int | None
    created_at: datetime
    updated_at: datetime


class DatasetPage(BaseModel):
    items: list[DatasetRead]
    page: int
    size: int
    total: int | None = None


class RequestCreate(BaseModel):
    purpose: str = Field(max_length=2000)
    fields: list[str] = Field(default_factory=list, max_length=200)
    days: int = 90


class ApproveIn(BaseModel):
    fields: list[str] | None = Field(None, max_length=200)  # default: the fields asked for
    masked: list[str] | None = Field(None, max_length=200)  # default: the personal/sensitive ones
    days: int | None = None  # default: the period asked for
    comment: str | None = Field(None, max_length=2000)


class RefuseIn(BaseModel):
    reason: str = Field(max_length=2000)


class RevokeIn(BaseModel):
    reason: str = Field(max_length=2000)


class RequestRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    dataset_id: int
    department_id: int
    purpose: str
    fields: list[str]
    days: int
    status: str
    decided_by: str | None
    decided_at: datetime | None
    reason: str | None
    created_at: datetime
    state_due_at: datetime | None = None
    dataset_code: str = ""
    dataset_name: str = ""


class RequestPage(BaseModel):
    items: list[RequestRead]
    page: int
    size: int
    total: int | None = None


class GrantRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    dataset_id: int
    department_id: int
    request_id: int | None
    fields: list[str]
    masked: list[str]
    valid_from: datetime
    valid_until: datetime
    status: str
    granted_by: str
    revoked_at: datetime | None
    revoke_reason: str | None


class GrantPage(BaseModel):
    items: list[GrantRead]
    page: int
    size: int
    total: int | None = None


class RecordsRead(BaseModel):
    dataset: str
    fields: list[str]
    masked: list[str]
    grant_id: int | None
    offset: int
    limit: int
    total: int
    items: list[dict[str, Any]]


class UsageDay(BaseModel):
    day: str
    reads: int
    rows: int


class UsageRead(BaseModel):
    dataset: str
    reads: int
    rows: int
    departments: int
    days: list[UsageDay]


class ReadLogRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    seq: int
    at: datetime
    account_id: int | None
    client_id: str | None
    actor_label: str
    department_id: int | None
    dataset_code: str
    grant_id: int | None
    channel: str
    query: dict[str, Any]
    row_count: int
    fields: list[str]
    prev_hash: str
    hash: str


class ReadLogPage(BaseModel):
    items: list[ReadLogRead]
    page: int
    size: int
    total: int | None = None


class ChainRead(BaseModel):
    ok: bool
    checked: int
    first_bad_seq: int | None
    first_bad_id: int | None
    problem: str | None
