"""API shapes of the feeds."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict


class FeedBatch(BaseModel):
    """Records are validated one by one by the service (a bad one is quarantined, not a 422)."""

    model_config = ConfigDict(extra="forbid")

    records: list[Any]
    batch_ref: str | None = None


class RecordError(BaseModel):
    index: int
    field: str | None
    reason: str
    message: str


class IngestReportRead(BaseModel):
    accepted: int
    duplicates: int
    quarantined: int
    reasons: dict[str, int]
    errors: list[RecordError]


class QuarantineRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    source: str
    reason: str
    reason_text: str = ""
    field: str | None
    detail: str
    record: dict[str, Any]
    batch_ref: str | None
    received_at: datetime


class QuarantinePage(BaseModel):
    items: list[QuarantineRead]
    page: int
    size: int
    total: int | None = None


class HourStatRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    source: str
    hour: datetime
    accepted: int
    duplicates: int
    quarantined: int
    reasons: dict[str, int]
