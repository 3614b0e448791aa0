"""The commute trip table (通勤出行): one row per trip, append-only, written in bulk.

A trip is derived from a probe vehicle's trace (``source = "derived"``) or imported from an OD
file such as a commute survey (``"imported"``). Both ends are located once, on write: the
district (区) of the region tree that holds the point, the path of the deepest region holding
it (for data scope: a street's or a grid's account sees the trips that start or end in its
area) and the H3 cell (resolution 8), so the OD matrices group by plain columns.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from cityos.core.db import Base, JSONType, PathType, UTCDateTime, utcnow

_ID = BigInteger().with_variant(Integer(), "sqlite")


class CommuteTrip(Base):
    __tablename__ = "commute_trip"
    __table_args__ = (
        Index("ix_commute_trip_started_at", "started_at"),
        Index("ix_commute_trip_od", "origin_district_id", "dest_district_id"),
    )

    id: Mapped[int] = mapped_column(_ID, primary_key=True)
    trip_key: Mapped[str] = mapped_column(String(160), unique=True)  # delivered twice, stored once
    mode: Mapped[str] = mapped_column(String(16))  # config.MODES
    source: Mapped[str] = mapped_column(String(16))  # config.SOURCES
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime] = mapped_column(UTCDateTime)
    origin_lon: Mapped[float] = mapped_column(Float)
    origin_lat: Mapped[float] = mapped_column(Float)
    dest_lon: Mapped[float] = mapped_column(Float)
    dest_lat: Mapped[float] = mapped_column(Float)
    distance_m: Mapped[float] = mapped_column(Float)
    duration_s: Mapped[float] = mapped_column(Float)
    origin_district_id: Mapped[int | None] = mapped_column(ForeignKey("region.id"), nullable=True)
    dest_district_id: Mapped[int | None] = mapped_column(ForeignKey("region.id"), nullable=True)
    origin_path: Mapped[str | None] = mapped_column(PathType, nullable=True)  # deepest region at the origin
    dest_path: Mapped[str | None] = mapped_column(PathType, nullable=True)
    origin_h3: Mapped[str] = mapped_column(String(16))
    dest_h3: Mapped[str] = mapped_column(String(16))
    segment_ids: Mapped[list[str]] = mapped_column(JSONType, default=list)  # matched path, in order
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
