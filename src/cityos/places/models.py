"""The region tree 市-区-街道-社区-网格-小区-楼栋-单元-房 and its spatial index."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, Boolean, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from cityos.core.db import Base, JSONType, PathType, UTCDateTime, utcnow


class RegionLevel(StrEnum):
    CITY = "city"
    DISTRICT = "district"  # 区/县
    STREET = "street"  # 街道/乡镇
    COMMUNITY = "community"  # 社区/村
    GRID = "grid"  # 网格
    ESTATE = "estate"  # 小区
    BUILDING = "building"  # 楼栋
    UNIT = "unit"  # 单元
    ROOM = "room"  # 房


LEVELS: tuple[RegionLevel, ...] = tuple(RegionLevel)
LEVEL_DEPTH = {level: i for i, level in enumerate(LEVELS)}


class Region(Base):
    __tablename__ = "region"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(128))
    level: Mapped[str] = mapped_column(String(16), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("region.id"), nullable=True, index=True)
    # Materialised path of ids, '/1/7/42/': a subtree is one index range scan on any database.
    path: Mapped[str] = mapped_column(PathType, unique=True)
    depth: Mapped[int] = mapped_column(Integer)
    geometry: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)  # GeoJSON, WGS84
    lon: Mapped[float | None] = mapped_column(Float, nullable=True)  # representative point
    lat: Mapped[float | None] = mapped_column(Float, nullable=True)
    min_lon: Mapped[float | None] = mapped_column(Float, nullable=True)
    min_lat: Mapped[float | None] = mapped_column(Float, nullable=True)
    max_lon: Mapped[float | None] = mapped_column(Float, nullable=True)
    max_lat: Mapped[float | None] = mapped_column(Float, nullable=True)
    h3_cell: Mapped[str | None] = mapped_column(String(16), nullable=True, index=True)
    attrs: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Indexed: max(updated_at) tells other processes' spatial indexes that geometry changed.
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow, index=True)

    __table_args__ = (Index("ix_region_parent_level_name", "parent_id", "level", "name"),)


class RegionCell(Base):
    """H3 cells covering a region's geometry; ``full`` cells lie wholly inside it."""

    __tablename__ = "region_cell"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id", ondelete="CASCADE"), index=True)
    level: Mapped[str] = mapped_column(String(16))
    cell: Mapped[int] = mapped_column(BigInteger, index=True)
    full: Mapped[bool] = mapped_column(Boolean, default=False)
