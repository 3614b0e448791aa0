"""Pydantic models of the open-platform API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class AppCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(max_length=200)
    description: str = Field("", max_length=4000)
    category: str = Field(max_length=32)
    emoji: str | None = Field(None, max_length=32)
    homepage_url: str | None = Field(None, max_length=1000)
    entry_url: str = Field(max_length=1000)
    requested_scopes: list[str] = Field(max_length=20)
    organisation_id: int | None = None


class AppUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, max_length=200)
    description: str | None = Field(None, max_length=4000)
    category: str | None = Field(None, max_length=32)
    emoji: str | None = Field(None, max_length=32)
    homepage_url: str | None = Field(None, max_length=1000)
    entry_url: str | None = Field(None, max_length=1000)
    requested_scopes: list[str] | None = Field(None, max_length=20)


class AppRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    description: str
    category: str
    emoji: str | None
    has_icon: bool = False
    homepage_url: str | None
    entry_url: str
    developer_id: int
    organisation_id: int | None
    requested_scopes: list[str]
    granted_scopes: list[str]
    status: str
    review_note: str | None
    reviewed_at: datetime | None
    submitted_at: datetime | None
    rate_limit: int
    scope_region_id: int | None
    client_id: str | None
    created_at: datetime
    updated_at: datetime


class AppKeys(BaseModel):
    """The client credentials: the secret is in this answer only."""

    app: AppRead
    client_id: str
    client_secret: str
    token_url: str = "/api/v1/oauth/token"


class ApproveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    scopes: list[str] = Field(max_length=20)
    region_id: int
    rate_limit: int = 600
    note: str | None = Field(None, max_length=4000)


class ReasonIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(max_length=4000)


class RateLimitIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rate_limit: int


class CatalogueEntry(BaseModel):
    id: int
    name: str
    description: str
    category: str
    category_title: str
    emoji: str | None
    icon_url: str | None
    entry_url: str
    homepage_url: str | None


class WebhookCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(max_length=1000)
    topics: list[str] = Field(max_length=20)
    secret: str | None = Field(None, max_length=256)


class WebhookUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(None, max_length=1000)
    topics: list[str] | None = Field(None, max_length=20)
    active: bool | None = None


class WebhookRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    app_id: int
    url: str
    topics: list[str]
    active: bool
    failures: int
    paused_until: datetime | None
    created_at: datetime


class WebhookCreated(BaseModel):
    webhook: WebhookRead
    secret: str  # shown in this answer only


class DeliveryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    webhook_id: int
    event_id: str
    topic: str
    status: str
    attempts: int
    next_attempt_at: datetime
    last_status: int | None
    last_error: str | None
    delivered_at: datetime | None
    created_at: datetime
    payload: dict[str, Any]


class UsageDay(BaseModel):
    day: date
    requests: int
    limited: int


class TopicRead(BaseModel):
    topic: str
    title: str
    scope: str | None
