"""Road network models: one ``RoadNetwork`` per imported source, its directed ``RoadSegment`` rows.

A segment's geometry is stored as a GeoJSON LineString (portable JSON, no PostGIS needed); its
bounding box columns and the H3 cell (resolution 9, about 175 m) of its midpoint let a lookup
narrow the rows in SQL before the in-memory STRtree (``index.py``) does the exact work.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Float, ForeignKey, Index, Integer, SmallInteger, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cityos.core.db import Base, JSONType, UTCDateTime, utcnow

_ID = BigInteger().with_variant(Integer(), "sqlite")

H3_RESOLUTION = 9


class RoadNetwork(Base):
    __tablename__ = "road_network"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(32))  # sumo | geojson | grid
    source_ref: Mapped[str | None] = mapped_column(String(512), nullable=True)  # file name, generator args
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    segments: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)  # reason -> count
    min_lon: Mapped[float | None] = mapped_column(Float, nullable=True)
    min_lat: Mapped[float | None] = mapped_column(Float, nullable=True)
    max_lon: Mapped[float | None] = mapped_column(Float, nullable=True)
    max_lat: Mapped[float | None] = mapped_column(Float, nullable=True)


class RoadSegment(Base):
    __tablename__ = "road_segment"
    __table_args__ = (
        UniqueConstraint("network_id", "segment_id"),
        Index("ix_road_segment_network_h3", "network_id", "h3_cell"),
        Index("ix_road_segment_network_bbox", "network_id", "min_lon", "min_lat"),
    )

    id: Mapped[int] = mapped_column(_ID, primary_key=True)
    network_id: Mapped[int] = mapped_column(ForeignKey("road_network.id", ondelete="CASCADE"))
    segment_id: Mapped[str] = mapped_column(String(128))
    from_node: Mapped[str] = mapped_column(String(128))
    to_node: Mapped[str] = mapped_column(String(128))
    road_class: Mapped[str] = mapped_column(String(16))
    length_m: Mapped[float] = mapped_column(Float)
    lanes: Mapped[int] = mapped_column(SmallInteger)
    free_speed_kmh: Mapped[float] = mapped_column(Float)
    geometry: Mapped[dict[str, Any]] = mapped_column(JSONType)  # GeoJSON LineString, lon/lat
    min_lon: Mapped[float] = mapped_column(Float)
    min_lat: Mapped[float] = mapped_column(Float)
    max_lon: Mapped[float] = mapped_column(Float)
    max_lat: Mapped[float] = mapped_column(Float)
    h3_cell: Mapped[str] = mapped_column(String(16))
