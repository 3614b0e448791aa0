"""API schemas of places. Geometry is GeoJSON in WGS84 ([longitude, latitude])."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from cityos.places.models import RegionLevel


class GeometryIn(BaseModel):
    """A GeoJSON Polygon or MultiPolygon; rings, ranges and validity are checked by the service."""

    model_config = ConfigDict(extra="ignore")

    type: Literal["Polygon", "MultiPolygon"]
    coordinates: list[Any] = Field(min_length=1)


class RegionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    parent_id: int | None = None
    level: RegionLevel
    code: str = Field(min_length=1, max_length=32)
    name: str = Field(min_length=1, max_length=128)
    geometry: GeometryIn | None = None
    attrs: dict[str, Any] = Field(default_factory=dict)


class RegionUpdate(BaseModel):
    """Fields to change; ``geometry: null`` clears the shape, a missing field is left alone."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=128)
    attrs: dict[str, Any] | None = None
    geometry: GeometryIn | None = None


class RegionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    name: str
    level: str
    parent_id: int | None
    path: str
    depth: int
    lon: float | None = None
    lat: float | None = None
    min_lon: float | None = None
    min_lat: float | None = None
    max_lon: float | None = None
    max_lat: float | None = None
    h3_cell: str | None = None
    attrs: dict[str, Any] = Field(default_factory=dict)
    created_at: datetime
    updated_at: datetime


class RegionChild(RegionRead):
    child_count: int = 0


class RegionPage(BaseModel):
    items: list[RegionChild]
    page: int
    size: int
    total: int | None = None
