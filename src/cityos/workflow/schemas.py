"""API schemas of the process engine."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class DefinitionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    key: str
    version: int
    title: str
    active: bool
    created_at: datetime
    created_by: str
    spec: dict[str, Any]


class CalendarDayIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    workday: bool
    name: str = Field(default="", max_length=64)


class CalendarDayRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    day: date
    workday: bool
    name: str


class CalendarYearRead(BaseModel):
    year: int
    official: bool = Field(description="False: no official data loaded; Monday to Friday count as working days")
    exceptions: list[CalendarDayRead]
