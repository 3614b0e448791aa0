"""The append-only observation table of the data hub (``sensor_observation``).

One row is one attribute instance at one time: written in bulk by the entity store's change
listener and by device ingest (SQLAlchemy Core executemany, never ORM objects), read by the
NGSI-LD temporal API, archived as Parquet by day. Rows are never updated except by the temporal
API's explicit attribute-instance modify/delete.

The value sits in exactly one of ``value_num`` (numbers), ``value_text`` (strings and
relationship targets) or ``value_json`` (booleans, structured values, geometries, language
maps, lists); ``kind`` keeps the NGSI-LD attribute type so the instance can be rebuilt.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Float, Index, Integer, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from cityos.core.db import Base, UTCDateTime, utcnow

BigId = BigInteger().with_variant(Integer, "sqlite")
# JSON on SQLite, JSONB on PostgreSQL (as core.db.JSONType), but None is SQL NULL, not JSON null:
# most rows carry a number or text and no JSON value.
NullableJSON = JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")


class SensorObservation(Base):
    """One observed attribute instance (观测值)."""

    __tablename__ = "sensor_observation"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    tenant: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[str] = mapped_column(String(256))
    entity_type: Mapped[str] = mapped_column(String(512))  # expanded IRI
    attr: Mapped[str] = mapped_column(String(512))  # expanded IRI
    kind: Mapped[str] = mapped_column(String(24), default="Property")  # NGSI-LD attribute type
    observed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    value_num: Mapped[float | None] = mapped_column(Float, nullable=True)
    value_text: Mapped[str | None] = mapped_column(Text, nullable=True)
    value_json: Mapped[Any] = mapped_column(NullableJSON, nullable=True)
    unit: Mapped[str | None] = mapped_column(String(32), nullable=True)
    dataset_id: Mapped[str | None] = mapped_column(String(256), nullable=True)
    source: Mapped[str] = mapped_column(String(64), default="ngsi")  # "ngsi" | "device" | device code
    instance_id: Mapped[str] = mapped_column(String(80))  # urn:ngsi-ld:attribute-instance:<uuid>
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        Index("ix_sensor_observation_entity_attr_time", "tenant", "entity_id", "attr", "observed_at"),
        Index("ix_sensor_observation_type_time", "tenant", "entity_type", "observed_at"),
        Index("ix_sensor_observation_observed_at", "observed_at"),
    )
