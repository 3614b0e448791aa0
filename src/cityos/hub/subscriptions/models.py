"""Models of hub.subscriptions: NGSI-LD subscriptions (订阅) per tenant and their notifications.

``HubSubscription`` keeps the subscription as given (``spec``: expanded names, the context it
was written with) plus the delivery figures of the spec (timesSent, timesFailed, lastSuccess …).
``HubNotification`` is the durable outbox of notifications: queued by the change listener inside
the writer's transaction, sent by the deliverer after the commit, retried with back-off, kept
with its outcome (the recent deliveries of a subscription).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cityos.core.db import Base, JSONType, UTCDateTime, utcnow

BigId = BigInteger().with_variant(Integer, "sqlite")


class SubscriptionStatus(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    EXPIRED = "expired"


class NotificationStatus(StrEnum):
    PENDING = "pending"  # waiting for its (next) attempt
    DELIVERED = "delivered"
    FAILED = "failed"  # gave up after the last retry


class HubSubscription(Base):
    __tablename__ = "hub_subscription"
    __table_args__ = (
        UniqueConstraint("tenant", "subscription_id", name="uq_hub_subscription_tenant_sid"),
        Index("ix_hub_subscription_tenant_active", "tenant", "is_active"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant: Mapped[str] = mapped_column(String(64))
    subscription_id: Mapped[str] = mapped_column(String(256))
    name: Mapped[str | None] = mapped_column(String(256), default=None)
    spec: Mapped[dict[str, Any]] = mapped_column(JSONType)  # normalised subscription, expanded names
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    throttling: Mapped[float | None] = mapped_column(Float, default=None)
    time_interval: Mapped[float | None] = mapped_column(Float, default=None)
    endpoint_uri: Mapped[str] = mapped_column(String(1024))
    owner: Mapped[str | None] = mapped_column(String(128), default=None)  # the actor's label
    times_sent: Mapped[int] = mapped_column(Integer, default=0)
    times_failed: Mapped[int] = mapped_column(Integer, default=0)
    last_queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    last_notification: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    last_success: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    last_failure: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    last_failure_reason: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    modified_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class HubNotification(Base):
    __tablename__ = "hub_notification"
    __table_args__ = (
        Index("ix_hub_notification_status_next", "status", "next_attempt_at"),
        Index("ix_hub_notification_subscription", "subscription_pk", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    subscription_pk: Mapped[int] = mapped_column(ForeignKey("hub_subscription.id", ondelete="CASCADE"))
    tenant: Mapped[str] = mapped_column(String(64))
    endpoint_uri: Mapped[str] = mapped_column(String(1024))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType)
    status: Mapped[str] = mapped_column(String(16), default=NotificationStatus.PENDING.value)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    response_status: Mapped[int | None] = mapped_column(Integer, default=None)
    latency_ms: Mapped[float | None] = mapped_column(Float, default=None)
