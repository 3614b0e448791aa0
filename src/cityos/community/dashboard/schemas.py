"""API schemas of 一屏观社区. Counts only, except the building drill-down's masked names (张*)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _Read(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class RegionRefRead(_Read):
    id: int
    name: str
    level: str
    level_label: str
    path: str


class ChildRead(_Read):
    id: int
    name: str
    level: str


class PyramidRead(_Read):
    bands: list[str] = Field(description="5-year age bands: 0-4 … 95-99, 100+")
    male: list[int]
    female: list[int]
    unknown_gender: list[int]
    no_birth_date: int


class GroupCountRead(_Read):
    tag: str
    label: str
    count: int


class PeopleRead(_Read):
    residents: int
    households: int
    owners: int
    tenants: int
    family: int
    collective: int
    elderly: int
    elderly_share: float | None = Field(description="Percent of residents with a known age who are 60 or older")
    pyramid: PyramidRead
    groups: list[GroupCountRead] = Field(description="Special groups from people tags: counts only")


class PlacesRead(_Read):
    estates: int
    buildings: int
    units: int
    rooms: int
    occupied_rooms: int
    occupancy: float | None = Field(description="Percent of rooms with at least one resident")
    shown: int
    truncated: bool = Field(description="Too many buildings to draw: choose a smaller area")
    bounds: list[float] | None = Field(description="[west, south, east, north] of the drawn buildings")
    geojson: dict[str, Any] = Field(
        description="Building footprints (Polygon) with properties id, name, estate, floors, height (m), "
        "rooms, occupied, occupancy (0–1), residents, open_cases — for a fill-extrusion layer"
    )
    estate_outlines: dict[str, Any] = Field(
        description="The estates the drawn buildings stand in (Polygon; properties id, name, buildings, bounds)"
    )


class CategoryCountRead(_Read):
    code: str
    name: str
    open: int
    overdue: int


class CaseItemRead(_Read):
    id: int
    no: str
    title: str
    due_at: datetime | None


class CasesRead(_Read):
    open: int
    overdue: int
    reported: int = Field(description="Cases reported in the last period_days days")
    closure_rate: float | None
    on_time_rate: float | None
    satisfaction_rate: float | None
    period_days: int
    by_category: list[CategoryCountRead]
    overdue_cases: list[CaseItemRead]


class KindCountRead(_Read):
    kind: str
    label: str
    total: int
    by_status: dict[str, int]


class DeviceItemRead(_Read):
    id: int
    code: str
    name: str
    kind: str
    status: str
    status_label: str
    last_seen_at: datetime | None


class ThingsRead(_Read):
    total: int
    by_status: dict[str, int]
    status_labels: dict[str, str]
    kinds: list[KindCountRead]
    attention: list[DeviceItemRead]


class FigureRead(_Read):
    key: str
    label: str
    value: float | int | None
    unit: str
    headline: bool


class PartRead(_Read):
    part: str
    title: str
    ok: bool
    figures: list[FigureRead]
    error: str | None


class DashboardRead(_Read):
    """人地事物情 of one region. A panel that could not be built is null, with its reason in ``errors``."""

    region: RegionRefRead
    lineage: list[RegionRefRead]
    children: list[ChildRead]
    generated_at: datetime
    today: date
    people: PeopleRead | None
    places: PlacesRead | None
    cases: CasesRead | None
    things: ThingsRead | None
    situation: list[PartRead]
    errors: dict[str, str]


class ResidentRead(_Read):
    person_id: int
    name: str = Field(description="Masked (张*); the person's card unmasks through the audited reveal")
    relation: str | None
    relation_label: str | None
    tags: list[str]
    tag_labels: list[str]


class RoomRead(_Read):
    id: int
    name: str
    residents_count: int
    occupied: bool
    residents: list[ResidentRead]


class UnitRead(_Read):
    id: int
    name: str
    rooms: list[RoomRead]


class OpenCaseRead(_Read):
    id: int
    no: str
    title: str
    overdue: bool


class BuildingRead(_Read):
    id: int
    name: str
    estate: str | None
    lineage: list[RegionRefRead]
    floors: int
    height: float
    rooms: int
    occupied_rooms: int
    residents: int
    names_shown: bool = Field(description="Residents listed by masked name (needs person:read); else counts only")
    units: list[UnitRead]
    open_cases: int
    cases: list[OpenCaseRead]
