"""Models of mobility.monitor: corridors, the fused state of every segment per 5-minute bin, the
five vital signs per area and bin, segment speed forecasts, and the cursor of computed bins.

``segment_state`` and ``vital_sign`` keep the columns of ``indicators.fusion.FUSED_SCHEMA`` and
``indicators.vitals.VITALS_SCHEMA`` worth showing; bins are written in bulk and upserted on
their natural key, so recomputing a window replaces its rows instead of adding to them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, Float, Index, Integer, SmallInteger, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cityos.core.db import Base, JSONType, UTCDateTime, utcnow

_ID = BigInteger().with_variant(Integer(), "sqlite")

LEVELS: tuple[str, ...] = ("city", "district", "corridor")
HORIZONS_MIN: tuple[int, ...] = (15, 30, 60)


class TrafficCorridor(Base):
    """A named chain of segments watched as one (重点通道): its vital signs are computed per bin."""

    __tablename__ = "traffic_corridor"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str | None] = mapped_column(String(200), nullable=True)
    network_code: Mapped[str] = mapped_column(String(64))
    segment_ids: Mapped[list[str]] = mapped_column(JSONType)  # in travel order
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class SegmentState(Base):
    """The fused speed and state (1 畅通 … 5 严重拥堵) of one segment in one 5-minute bin."""

    __tablename__ = "segment_state"
    __table_args__ = (
        UniqueConstraint("network_code", "segment_id", "bin_start", name="uq_segment_state_key"),
        Index("ix_segment_state_bin_start", "bin_start"),
    )

    id: Mapped[int] = mapped_column(_ID, primary_key=True)
    network_code: Mapped[str] = mapped_column(String(64))
    segment_id: Mapped[str] = mapped_column(String(128))
    bin_start: Mapped[datetime] = mapped_column(UTCDateTime)
    speed_kmh: Mapped[float | None] = mapped_column(Float, nullable=True)
    speed_sd_kmh: Mapped[float | None] = mapped_column(Float, nullable=True)
    state: Mapped[int | None] = mapped_column(SmallInteger, nullable=True)
    flow_veh: Mapped[float | None] = mapped_column(Float, nullable=True)
    occupancy: Mapped[float | None] = mapped_column(Float, nullable=True)
    sources: Mapped[int] = mapped_column(SmallInteger, default=0)
    disagree: Mapped[bool] = mapped_column(Boolean, default=False)
    disagree_reason: Mapped[str | None] = mapped_column(String(256), nullable=True)
    probe_speed: Mapped[float | None] = mapped_column(Float, nullable=True)
    probe_n: Mapped[float] = mapped_column(Float, default=0.0)
    loop_speed: Mapped[float | None] = mapped_column(Float, nullable=True)
    loop_n: Mapped[float] = mapped_column(Float, default=0.0)
    nav_speed: Mapped[float | None] = mapped_column(Float, nullable=True)
    nav_n: Mapped[float] = mapped_column(Float, default=0.0)


class VitalSign(Base):
    """The five vital signs (五大体征) of the city, a district or a corridor in one 5-minute bin."""

    __tablename__ = "vital_sign"
    __table_args__ = (
        UniqueConstraint("level", "area_id", "bin_start", name="uq_vital_sign_key"),
        Index("ix_vital_sign_bin_start", "bin_start"),
    )

    id: Mapped[int] = mapped_column(_ID, primary_key=True)
    level: Mapped[str] = mapped_column(String(16))  # LEVELS
    area_id: Mapped[str] = mapped_column(String(64))  # "city", a district region code, a corridor code
    bin_start: Mapped[datetime] = mapped_column(UTCDateTime)
    segments: Mapped[int] = mapped_column(Integer, default=0)
    vehicles: Mapped[float | None] = mapped_column(Float, nullable=True)
    probe_points: Mapped[float | None] = mapped_column(Float, nullable=True)
    vkt_km: Mapped[float | None] = mapped_column(Float, nullable=True)
    vkt_coverage: Mapped[float | None] = mapped_column(Float, nullable=True)
    tti: Mapped[float | None] = mapped_column(Float, nullable=True)
    congested_ratio: Mapped[float | None] = mapped_column(Float, nullable=True)
    tpi: Mapped[float | None] = mapped_column(Float, nullable=True)
    tpi_band: Mapped[int | None] = mapped_column(SmallInteger, nullable=True)
    tpi_band_name: Mapped[str | None] = mapped_column(String(16), nullable=True)
    arterial_speed_kmh: Mapped[float | None] = mapped_column(Float, nullable=True)
    expressway_speed_kmh: Mapped[float | None] = mapped_column(Float, nullable=True)
    incidents: Mapped[float] = mapped_column(Float, default=0.0)
    safety_index: Mapped[float | None] = mapped_column(Float, nullable=True)
    disagreements: Mapped[int] = mapped_column(Integer, default=0)


class TrafficForecast(Base):
    """A speed forecast for one segment, issued after a bin for 15, 30 or 60 minutes ahead."""

    __tablename__ = "traffic_forecast"
    __table_args__ = (
        UniqueConstraint("network_code", "segment_id", "issued_at", "horizon_min", name="uq_traffic_forecast_key"),
        Index("ix_traffic_forecast_segment_target", "segment_id", "target_at"),
        Index("ix_traffic_forecast_issued_at", "issued_at"),
    )

    id: Mapped[int] = mapped_column(_ID, primary_key=True)
    network_code: Mapped[str] = mapped_column(String(64))
    segment_id: Mapped[str] = mapped_column(String(128))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)  # the start of the bin it was made after
    horizon_min: Mapped[int] = mapped_column(SmallInteger)  # HORIZONS_MIN
    target_at: Mapped[datetime] = mapped_column(UTCDateTime)  # the bin start it forecasts
    speed_kmh: Mapped[float] = mapped_column(Float)
    state: Mapped[int | None] = mapped_column(SmallInteger, nullable=True)
    model: Mapped[str] = mapped_column(String(32))  # learned | historical_average | last_value


class MonitorCursor(Base):
    """The last bin computed for a network: a restart neither skips nor repeats bins."""

    __tablename__ = "traffic_monitor_cursor"

    network_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_bin_start: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    stats: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)  # the last run's counts
