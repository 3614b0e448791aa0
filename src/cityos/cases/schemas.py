"""API schemas of cases."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from cityos.cases.models import Channel, Urgency


class CaseCreate(BaseModel):
    """``category_code`` may be left empty: the text classifier then proposes one."""

    model_config = ConfigDict(extra="forbid")

    category_code: str = Field(default="", max_length=32)
    title: str = Field(max_length=200)
    description: str = Field(default="", max_length=8000)
    channel: Channel = Channel.RESIDENT
    urgency: Urgency = Urgency.NORMAL
    lon: float | None = None
    lat: float | None = None
    address: str | None = Field(default=None, max_length=400)


class CaseRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    no: str
    category_code: str
    channel: str
    urgency: str
    title: str
    description: str
    lon: float | None
    lat: float | None
    address: str | None
    region_id: int | None
    status: str
    department_id: int | None
    due_at: datetime | None
    closed_at: datetime | None
    rating: int | None
    routing: dict[str, Any]
    created_at: datetime


class CasePage(BaseModel):
    items: list[CaseRead]
    page: int
    size: int
    total: int | None = None


class ActionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    comment: str | None = Field(default=None, max_length=4000)
    department_id: int | None = None
    party: str | None = Field(default=None, max_length=64)


class ReopenIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    comment: str = Field(max_length=4000)


class RatingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    level: int
    comment: str | None = Field(default=None, max_length=2000)


class RatingRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    level: int
    comment: str | None
    revision: int
    created_at: datetime


class TimelineEntry(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    at: datetime
    actor_label: str
    action: str
    from_state: str | None
    to_state: str | None
    comment: str | None
    party: str | None


class CategoryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name: str
    parent_code: str | None
    level: int


class MergeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    into_id: int


class SuggestIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=4000)


class SuggestionRead(BaseModel):
    category_code: str
    name: str
    confidence: float


class CategoryIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    category_code: str = Field(max_length=32)


class VideoEventIn(BaseModel):
    """An AI video detection from a vendor (占道经营, 暴露垃圾 …)."""

    model_config = ConfigDict(extra="forbid")

    event_id: str = Field(min_length=1, max_length=48)
    camera_id: str = Field(min_length=1, max_length=64)
    category_code: str = Field(max_length=32)
    lon: float = Field(ge=-180, le=180)
    lat: float = Field(ge=-90, le=90)
    confidence: float = Field(ge=0, le=1)
    label: str = Field(default="", max_length=128)
    snapshot_url: str | None = Field(default=None, max_length=500)


class VideoEventOut(BaseModel):
    case_id: int
    case_no: str
    created: bool
