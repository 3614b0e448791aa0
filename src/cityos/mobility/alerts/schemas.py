"""API shapes of the alert rules, the alerts and the guidance feed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict


class RuleCreate(BaseModel):
    """Values are checked by the service (field errors in the caller's language)."""

    name: Any = None
    target: Any = None
    kind: Any = None
    min_band: Any = None
    ratio: Any = None
    min_weeks: Any = None
    duration_min: Any = None
    clear_min: Any = None
    road_classes: Any = None
    region_id: Any = None
    active: Any = True


class RuleUpdate(BaseModel):
    """Only the fields sent change."""

    name: Any = None
    target: Any = None
    kind: Any = None
    min_band: Any = None
    ratio: Any = None
    min_weeks: Any = None
    duration_min: Any = None
    clear_min: Any = None
    road_classes: Any = None
    region_id: Any = None
    active: Any = None


class RuleRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str | None
    name: str
    title: str  # the name in the caller's language (shipped rules)
    target: str
    kind: str
    min_band: int | None
    ratio: float | None
    min_weeks: int | None
    duration_min: int
    clear_min: int
    road_classes: list[str] | None
    region_id: int | None
    active: bool


class AlertRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    alert_id: str
    rule_id: int | None
    rule_kind: str
    kind: str
    network_code: str
    target_id: str
    target_name: str
    road_class: str | None
    severity: int
    max_severity: int
    speed_kmh: float | None
    baseline_kmh: float | None
    lon: float
    lat: float
    started_at: datetime
    last_seen_at: datetime
    cleared_at: datetime | None
    status: str
    acknowledged_at: datetime | None
    case_id: int | None
    case_no: str | None


class AlertPage(BaseModel):
    items: list[AlertRead]
    total: int


class GuidanceRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    message_id: str
    alert_id: str | None
    kind: str
    target_kind: str
    target_id: str
    severity: int | None
    text_zh: str
    text_en: str
    lon: float
    lat: float
    issued_at: datetime
    expires_at: datetime


class GuidanceFeed(BaseModel):
    items: list[GuidanceRead]
    cursor: str
