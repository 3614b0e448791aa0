"""API schemas of mobility.commute."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class WindowRead(BaseModel):
    start: datetime
    end: datetime
    day: date | None


class ZoneRead(BaseModel):
    key: str
    name: str
    lon: float
    lat: float


class OdPairRead(BaseModel):
    origin: str
    dest: str
    trips: int
    mean_minutes: float
    mean_km: float


class OdMatrixRead(BaseModel):
    level: str
    peak: str
    window: WindowRead
    trips: int
    zones: list[ZoneRead]
    pairs: list[OdPairRead]


class CorridorsRead(BaseModel):
    level: str
    peak: str
    window: WindowRead
    network: str | None
    corridors: dict[str, Any]  # GeoJSON FeatureCollection of LineStrings


class DistrictCommuteRead(BaseModel):
    district_id: int
    name: str
    trips: int
    mean_minutes: float
    mean_km: float


class ReferenceRead(BaseModel):
    label: str
    minutes: float
    km: float
    source: str


class DistrictsRead(BaseModel):
    window: WindowRead
    districts: list[DistrictCommuteRead]
    reference: ReferenceRead


class TripRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    trip_key: str
    mode: str
    source: str
    started_at: datetime
    ended_at: datetime
    origin_lon: float
    origin_lat: float
    dest_lon: float
    dest_lat: float
    distance_m: float
    duration_s: float
    origin_district_id: int | None
    dest_district_id: int | None
    origin_h3: str
    dest_h3: str
    segment_ids: list[str]


class TripPage(BaseModel):
    items: list[TripRead]
    total: int


class TripImport(BaseModel):
    """OD records, one object per row with the columns of ``imports`` (values as in a CSV)."""

    records: list[dict[str, Any]] = Field(min_length=1, max_length=50_000)


class ImportResult(BaseModel):
    written: int
    duplicates: int
