"""API schemas of mobility.monitor."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class CorridorCreate(BaseModel):
    code: str = ""
    name: str = ""
    name_en: str | None = None
    segment_ids: list[Any] = Field(default_factory=list)  # checked by the service, with field messages
    active: bool = True


class CorridorUpdate(BaseModel):
    name: str | None = None
    name_en: str | None = None
    segment_ids: list[Any] | None = None
    active: bool | None = None


class CorridorRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name: str
    name_en: str | None
    network_code: str
    segment_ids: list[str]
    active: bool
    updated_at: datetime


class VitalRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    level: str
    area_id: str
    bin_start: datetime
    segments: int
    vehicles: float | None
    probe_points: float | None
    vkt_km: float | None
    vkt_coverage: float | None
    tti: float | None
    congested_ratio: float | None
    tpi: float | None
    tpi_band: int | None
    tpi_band_name: str | None
    arterial_speed_kmh: float | None
    expressway_speed_kmh: float | None
    incidents: float
    safety_index: float | None
    disagreements: int


class StateRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    bin_start: datetime
    speed_kmh: float | None
    speed_sd_kmh: float | None
    state: int | None
    flow_veh: float | None
    occupancy: float | None
    sources: int
    disagree: bool
    disagree_reason: str | None
    probe_speed: float | None
    probe_n: float
    loop_speed: float | None
    loop_n: float
    nav_speed: float | None
    nav_n: float


class ForecastRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    issued_at: datetime
    horizon_min: int
    target_at: datetime
    speed_kmh: float
    state: int | None
    model: str


class SegmentDetail(BaseModel):
    network_code: str
    segment_id: str
    road_class: str
    length_m: float
    lanes: int
    free_speed_kmh: float
    history: list[StateRead]
    forecasts: list[ForecastRead]  # the latest issue's, one per horizon
    mae_kmh: dict[int, float | None]  # past forecasts against what happened, per horizon
    mae_samples: dict[int, int]
