"""IoT ingest (物联接入): device profiles, the binding of a device to its NGSI-LD entity, the
message ids seen (QoS 1 de-duplication), per-batch tallies and the latest rejected messages.

A device itself is a row of the shared registry (``places.devices``: code, kind, region, key
hash); ingest adds what the hub needs to turn its readings into entity attributes and
observations."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cityos.core.db import Base, JSONType, UTCDateTime, utcnow

BigId = BigInteger().with_variant(Integer, "sqlite")


class DeviceProfile(Base):
    """What a kind of device sends and how it maps onto an NGSI-LD entity (设备模板).

    ``mapping``: ``{"time": <payload key holding the observation time> | null, "fields":
    {<payload key>: {"attr": <attribute short name>, "type": number|integer|boolean|enum|string|
    datetime|relationship, "scale"?, "offset"?, "min"?, "max"?, "values"?: [...], "unit"?: <UN/CEFACT
    code>, "max_length"?}}}``; numbers are checked against min/max after scale and offset."""

    __tablename__ = "ingest_profile"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(128))  # English msgid, translated where shown
    device_kind: Mapped[str] = mapped_column(String(32))
    entity_type: Mapped[str] = mapped_column(String(128))  # short type name (Smart Data Models)
    mapping: Mapped[dict[str, Any]] = mapped_column(JSONType)
    builtin: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class IngestBinding(Base):
    """A registered device bound to a profile and to the entity its readings update. ``key_enc``
    is the device key encrypted with the field cipher: MQTT messages are signed with it
    (HMAC-SHA256), so the hub needs the key itself, not only its hash."""

    __tablename__ = "ingest_binding"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("device.id", ondelete="CASCADE"), unique=True)
    profile_code: Mapped[str] = mapped_column(ForeignKey("ingest_profile.code"), index=True)
    tenant: Mapped[str] = mapped_column(String(64), default="default")
    entity_id: Mapped[str] = mapped_column(String(256))
    entity_type: Mapped[str] = mapped_column(String(128))
    key_enc: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("tenant", "entity_id", name="uq_ingest_binding_tenant_entity"),)


class IngestMessage(Base):
    """A message id accepted from a device; a second delivery of the same id (MQTT QoS 1 resends,
    HTTP retries) is a duplicate. Pruned after 24 hours; older messages are refused as stale."""

    __tablename__ = "ingest_message"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    device_id: Mapped[int] = mapped_column(Integer)
    mid: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    __table_args__ = (UniqueConstraint("device_id", "mid", name="uq_ingest_message_device_mid"),)


class IngestTally(Base):
    """How many messages one batch accepted, found duplicate or rejected (with the reason), by
    the minute they arrived; summed for the ingest page and pruned after 24 hours."""

    __tablename__ = "ingest_tally"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    minute: Mapped[datetime] = mapped_column(UTCDateTime)
    channel: Mapped[str] = mapped_column(String(8))  # http | mqtt
    outcome: Mapped[str] = mapped_column(String(16))  # accepted | duplicate | rejected
    reason: Mapped[str] = mapped_column(String(32), default="")
    count: Mapped[int] = mapped_column(Integer)

    __table_args__ = (Index("ix_ingest_tally_minute_outcome", "minute", "outcome"),)


class IngestRejection(Base):
    """A rejected message: who sent it, why, and which fields were wrong (never the payload)."""

    __tablename__ = "ingest_rejection"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    channel: Mapped[str] = mapped_column(String(8))
    tenant: Mapped[str | None] = mapped_column(String(64), nullable=True)
    device_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    mid: Mapped[str | None] = mapped_column(String(64), nullable=True)
    reason: Mapped[str] = mapped_column(String(32))
    fields: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)  # [{field, message, params}]
