"""Models of the open platform (开放平台): light apps (轻应用) on OAuth2 clients, their webhooks,
the queued webhook deliveries and the per-day usage counted by the rate-limit middleware."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from cityos.core.db import Base, JSONType, PathType, UTCDateTime, utcnow

BigId = BigInteger().with_variant(Integer, "sqlite")


class AppStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    REJECTED = "rejected"
    SUSPENDED = "suspended"


class DeliveryStatus(StrEnum):
    PENDING = "pending"  # waiting for its (next) attempt
    DELIVERED = "delivered"  # the endpoint answered 2xx
    FAILED = "failed"  # gave up after the last attempt (redeliver by hand)


class LightApp(Base):
    """A third-party light app (轻应用 / 小程序) registered by a developer; approval creates its
    OAuth2 client with the granted scopes, in the region the reviewer chose."""

    __tablename__ = "light_app"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[str] = mapped_column(String(32))
    emoji: Mapped[str | None] = mapped_column(String(16), nullable=True)
    icon: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True, deferred=True)
    icon_type: Mapped[str | None] = mapped_column(String(32), nullable=True)
    homepage_url: Mapped[str | None] = mapped_column(String(512), nullable=True)
    entry_url: Mapped[str] = mapped_column(String(512))
    developer_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    home_path: Mapped[str] = mapped_column(PathType)  # the developer's area: which reviewers see it
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), nullable=True)
    requested_scopes: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    granted_scopes: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    status: Mapped[str] = mapped_column(String(16), default=AppStatus.DRAFT, index=True)
    review_note: Mapped[str | None] = mapped_column(Text, nullable=True)
    reviewed_by: Mapped[str | None] = mapped_column(String(128), nullable=True)
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    rate_limit: Mapped[int] = mapped_column(Integer, default=600)  # requests per minute
    scope_region_id: Mapped[int | None] = mapped_column(ForeignKey("region.id"), nullable=True)
    scope_path: Mapped[str | None] = mapped_column(PathType, nullable=True)
    client_pk: Mapped[int | None] = mapped_column(ForeignKey("oauth_client.id"), nullable=True, unique=True)
    client_id: Mapped[str | None] = mapped_column(String(64), nullable=True, unique=True)
    # The client secret made at approval, encrypted, until the developer collects it (once).
    secret_pending: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AppWebhook(Base):
    """Where an approved app wants events of some topics POSTed; the secret signs the body."""

    __tablename__ = "app_webhook"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    app_id: Mapped[int] = mapped_column(ForeignKey("light_app.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(String(512))
    topics: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    secret_enc: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)  # consecutive failed attempts
    paused_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WebhookDelivery(Base):
    """One event for one webhook: queued by the bus handlers, sent by the deliverer."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (
        UniqueConstraint("webhook_id", "event_id"),
        Index("ix_webhook_delivery_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    webhook_id: Mapped[int] = mapped_column(ForeignKey("app_webhook.id", ondelete="CASCADE"), index=True)
    event_id: Mapped[str] = mapped_column(String(64))
    topic: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType)
    status: Mapped[str] = mapped_column(String(16), default=DeliveryStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_status: Mapped[int | None] = mapped_column(Integer, nullable=True)  # HTTP status of the last try
    last_error: Mapped[str | None] = mapped_column(String(255), nullable=True)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AppUsage(Base):
    """Requests and refusals (429) of one client on one UTC day, flushed from the middleware."""

    __tablename__ = "app_usage"
    __table_args__ = (UniqueConstraint("client_id", "day"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64))
    day: Mapped[date] = mapped_column(Date)
    requests: Mapped[int] = mapped_column(Integer, default=0)
    limited: Mapped[int] = mapped_column(Integer, default=0)
