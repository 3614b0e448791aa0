"""API shapes of mobility.transit."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict


class FeedRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name: str
    source_ref: str | None
    timezone: str
    imported_at: datetime
    routes: int
    stops: int
    trips: int
    stop_times: int
    shapes: int
    warnings: list[dict[str, Any]]


class RouteStatsRead(BaseModel):
    """A route with its performance over the window (statistics null without observed buses)."""

    id: int
    route_id: str
    short_name: str
    long_name: str
    route_type: int
    color: str | None
    arrivals: int
    trips: int
    on_time_share: float | None  # -60 s <= delay <= +300 s
    mean_delay_s: float | None
    p90_delay_s: float | None
    mean_headway_s: float | None
    headway_cv: float | None
    bunched_share: float | None


class StopRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    stop_id: str
    name: str
    lon: float
    lat: float


class ArrivalRead(BaseModel):
    route_id: str
    trip_id: str
    stop_sequence: int
    arrived_at: datetime
    scheduled_at: datetime
    delay_s: float
    on_time: bool


class StopArrivalsRead(BaseModel):
    stop: StopRead
    start: datetime
    end: datetime
    arrivals: list[ArrivalRead]
