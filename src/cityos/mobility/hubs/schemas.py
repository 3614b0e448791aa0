"""API shapes of mobility.hubs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict


class HubCreate(BaseModel):
    """Values are checked by the service (field errors in the caller's language)."""

    code: Any = None
    name: Any = None
    kind: Any = None
    lon: Any = None
    lat: Any = None
    radius_m: Any = 300.0
    camera_ids: Any = None
    region_id: Any = None


class HubUpdate(BaseModel):
    """Only the fields sent change."""

    name: Any = None
    kind: Any = None
    lon: Any = None
    lat: Any = None
    radius_m: Any = None
    camera_ids: Any = None
    region_id: Any = None


class HubRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    name: str
    kind: str
    lon: float
    lat: float
    radius_m: float
    region_id: int | None
    camera_ids: list[str]
    created_at: datetime
    updated_at: datetime


class MinuteArrivals(BaseModel):
    minute: datetime
    mode: str
    source: str  # video (people counted by cameras) | probe (taxi / ride-hailing trips from fixes)
    arrivals: float
    departures: float


class MinuteSupply(BaseModel):
    minute: datetime
    empty_taxis: int
    waiting: int
    ratio: float | None  # empty taxis per waiting passenger
    shortage: bool


class ModeShare(BaseModel):
    mode: str
    source: str
    arrivals: float
    departures: float
    total: float
    share: float


class PlaceFlow(BaseModel):
    region_id: int
    name: str
    lon: float | None
    lat: float | None
    trips: int
    taxi: int
    ridehail: int


class HubFlowRead(BaseModel):
    hub: HubRead
    start: datetime
    end: datetime
    arrivals: list[MinuteArrivals]
    supply: list[MinuteSupply]
    mode_share: list[ModeShare]
    origins: list[PlaceFlow]
    destinations: list[PlaceFlow]
    unlocated: dict[str, int]
