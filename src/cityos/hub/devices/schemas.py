"""API shapes of alarm rules and open alarms."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict


class AlarmRuleCreate(BaseModel):
    """Values are checked by the service (field errors in the caller's language)."""

    name: Any = None
    device_kind: Any = None
    profile_code: Any = None
    attribute: Any = None
    operator: Any = None
    threshold: Any = None
    clear_threshold: Any = None
    category_code: Any = None
    detail: Any = ""
    active: Any = True
    region_id: int | None = None


class AlarmRuleUpdate(BaseModel):
    """Only the fields sent change."""

    name: Any = None
    device_kind: Any = None
    profile_code: Any = None
    attribute: Any = None
    operator: Any = None
    threshold: Any = None
    clear_threshold: Any = None
    category_code: Any = None
    detail: Any = None
    active: Any = None


class AlarmRuleRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str | None
    name: str
    title: str  # the name in the caller's language (shipped rules)
    device_kind: str | None
    profile_code: str | None
    attribute: str
    operator: str
    threshold: Any
    clear_threshold: Any
    category_code: str
    detail: str
    active: bool
    region_id: int | None
    region_path: str
    editable: bool


class AlarmRead(BaseModel):
    id: int
    alarm_id: str | None
    rule_id: int
    rule: str
    category_code: str
    device_id: int
    device_code: str
    device_name: str
    device_kind: str
    value: Any
    last_value: Any
    since: datetime | None
    last_at: datetime | None
    lon: float | None
    lat: float | None


class AlarmPage(BaseModel):
    items: list[AlarmRead]
    total: int
