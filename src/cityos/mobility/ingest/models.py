"""The append-only traffic observation tables (written in bulk, archived as Parquet by day) and
the quarantine of records that failed validation.

Every source has a natural key (a detector's lane interval, a vehicle's fix, a provider's
segment interval, a camera's count): a batch delivered twice stores each record once. Probe
vehicle ids arrive pseudonymous from the operators and are stored as a keyed hash, so a plate
or a driver id never reaches the database.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, Float, Index, Integer, SmallInteger, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cityos.core.db import Base, JSONType, UTCDateTime, utcnow

_ID = BigInteger().with_variant(Integer(), "sqlite")

# The sources a record can come from (the ``source`` of the quarantine too).
SOURCES: tuple[str, ...] = ("loop", "probe", "bus", "nav", "video")
PROBE_KINDS: tuple[str, ...] = ("taxi", "ridehail", "bus", "other")
VIDEO_MODES: tuple[str, ...] = ("metro", "bus", "taxi", "ridehail", "car", "pedestrian")
VIDEO_DIRECTIONS: tuple[str, ...] = ("in", "out", "queue")  # queue: people waiting (a snapshot count)


class TrafficObservation(Base):
    """One loop detector lane interval (count, occupancy, time-mean speed)."""

    __tablename__ = "traffic_observation"
    __table_args__ = (
        UniqueConstraint("detector_id", "lane", "ts", name="uq_traffic_observation_key"),
        Index("ix_traffic_observation_ts", "ts"),
        Index("ix_traffic_observation_segment_ts", "segment_id", "ts"),
    )

    id: Mapped[int] = mapped_column(_ID, primary_key=True)
    detector_id: Mapped[str] = mapped_column(String(64))
    segment_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    lane: Mapped[int] = mapped_column(SmallInteger, default=0)  # 0: all lanes together
    ts: Mapped[datetime] = mapped_column(UTCDateTime)  # interval start
    interval_s: Mapped[int] = mapped_column(Integer)
    count: Mapped[int] = mapped_column(Integer)
    occupancy: Mapped[float | None] = mapped_column(Float, nullable=True)  # 0..1
    speed_kmh: Mapped[float | None] = mapped_column(Float, nullable=True)  # null when nobody passed
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ProbePoint(Base):
    """One GPS fix of a probe vehicle (taxi, ride-hailing, bus), with the segment it was matched to."""

    __tablename__ = "probe_point"
    __table_args__ = (
        UniqueConstraint("kind", "vehicle_key", "ts", name="uq_probe_point_key"),
        Index("ix_probe_point_ts", "ts"),
        Index("ix_probe_point_segment_ts", "segment_id", "ts"),
    )

    id: Mapped[int] = mapped_column(_ID, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # PROBE_KINDS
    vehicle_key: Mapped[str] = mapped_column(String(64))  # keyed hash of the operator's vehicle id
    ts: Mapped[datetime] = mapped_column(UTCDateTime)
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    speed_kmh: Mapped[float | None] = mapped_column(Float, nullable=True)
    heading_deg: Mapped[float | None] = mapped_column(Float, nullable=True)
    occupied: Mapped[bool | None] = mapped_column(Boolean, nullable=True)  # taxis: a passenger aboard
    route_id: Mapped[str | None] = mapped_column(String(64), nullable=True)  # buses: GTFS route
    trip_id: Mapped[str | None] = mapped_column(String(128), nullable=True)  # buses: GTFS trip
    segment_id: Mapped[str | None] = mapped_column(String(128), nullable=True)  # map-matched
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class NavSpeed(Base):
    """One segment interval of a navigation provider's speed feed."""

    __tablename__ = "nav_speed"
    __table_args__ = (
        UniqueConstraint("provider", "segment_id", "ts", name="uq_nav_speed_key"),
        Index("ix_nav_speed_ts", "ts"),
    )

    id: Mapped[int] = mapped_column(_ID, primary_key=True)
    provider: Mapped[str] = mapped_column(String(32))
    segment_id: Mapped[str] = mapped_column(String(128))
    ts: Mapped[datetime] = mapped_column(UTCDateTime)
    interval_s: Mapped[int] = mapped_column(Integer)
    speed_kmh: Mapped[float] = mapped_column(Float)
    samples: Mapped[int | None] = mapped_column(Integer, nullable=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class VideoCount(Base):
    """One camera interval at a transport hub: people or vehicles by mode and direction."""

    __tablename__ = "video_count"
    __table_args__ = (
        UniqueConstraint("camera_id", "mode", "direction", "ts", name="uq_video_count_key"),
        Index("ix_video_count_hub_ts", "hub_code", "ts"),
    )

    id: Mapped[int] = mapped_column(_ID, primary_key=True)
    camera_id: Mapped[str] = mapped_column(String(64))
    hub_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    ts: Mapped[datetime] = mapped_column(UTCDateTime)
    interval_s: Mapped[int] = mapped_column(Integer)
    mode: Mapped[str] = mapped_column(String(16))  # VIDEO_MODES
    direction: Mapped[str] = mapped_column(String(8))  # VIDEO_DIRECTIONS
    count: Mapped[int] = mapped_column(Integer)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TrafficQuarantine(Base):
    """A record that failed validation: kept with the reason, never silently dropped."""

    __tablename__ = "traffic_quarantine"
    __table_args__ = (Index("ix_traffic_quarantine_source_at", "source", "received_at"),)

    id: Mapped[int] = mapped_column(_ID, primary_key=True)
    source: Mapped[str] = mapped_column(String(16))  # SOURCES
    reason: Mapped[str] = mapped_column(String(64))  # a stable code, e.g. "speed_out_of_range"
    field: Mapped[str | None] = mapped_column(String(64), nullable=True)
    detail: Mapped[str] = mapped_column(String(256), default="")
    record: Mapped[dict[str, Any]] = mapped_column(JSONType)  # the record as received
    batch_ref: Mapped[str | None] = mapped_column(String(64), nullable=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TrafficFeedStat(Base):
    """Records received per source and UTC hour by outcome (``accepted``, ``duplicate`` or a
    quarantine reason): the feeds page and ``/feeds/stats`` read these few rows instead of
    counting millions of observations."""

    __tablename__ = "traffic_feed_stat"
    __table_args__ = (UniqueConstraint("source", "hour", "outcome", name="uq_traffic_feed_stat_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(16))
    hour: Mapped[datetime] = mapped_column(UTCDateTime)  # the hour's start, UTC
    outcome: Mapped[str] = mapped_column(String(64))
    n: Mapped[int] = mapped_column(Integer, default=0)
