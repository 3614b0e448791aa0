"""Pydantic models of the campaigns API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class TemplateRead(BaseModel):
    key: str
    title: str
    description: str
    task_kind: str
    task_level: str
    cadence: int
    key_group_cadence: int
    key_group_tags: list[str]
    help_categories: list[str]


class CampaignCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    template: str = Field(max_length=32)
    scope_region_id: int
    title: str | None = Field(None, max_length=256)


class CampaignRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    title: str
    description: str
    template_key: str
    scope_region_id: int
    status: str
    form_version: int
    settings: dict[str, Any]
    created_at: datetime
    started_at: datetime | None
    ended_at: datetime | None


class PublishedRead(BaseModel):
    campaign: CampaignRead
    tasks: int
    buildings: int


class FormRead(BaseModel):
    campaign_id: int
    version: int
    title: str
    form: dict[str, Any]  # the JSON Schema
    created_at: datetime


class FormIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(None, max_length=256)
    questions: list[dict[str, Any]] = Field(max_length=200)


class ReportCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    person_id: int
    answers: dict[str, Any]
    day: date | None = None
    building_id: int | None = None


class ReportRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    campaign_id: int
    person_id: int
    day: date
    form_version: int
    abnormal: bool
    abnormal_fields: list[str]
    late: bool
    key_group: bool
    slots: int
    entries: int
    channel: str
    reported_at: datetime


class ReportLineRead(BaseModel):
    id: int
    name: str
    place: str
    day: date
    form_version: int
    abnormal: bool
    abnormal_questions: list[str]
    late: bool
    key_group: bool
    reported_at: datetime


class ReportPage(BaseModel):
    items: list[ReportLineRead]
    page: int
    size: int
    total: int


class AnswerRead(BaseModel):
    key: str
    question: str
    answer: str


class ReportDetail(BaseModel):
    id: int
    campaign_id: int
    name: str
    place: str
    day: date
    late: bool
    abnormal: bool
    abnormal_fields: list[str]
    form_version: int
    form_title: str
    answers: list[AnswerRead]
    reported_at: datetime


class PersonLineRead(BaseModel):
    person_id: int
    name: str
    room: str
    tags: list[str]
    special: bool
    key_group: bool
    missing: int
    reported: int
    reached: bool
    abnormal: bool


class BuildingGroupRead(BaseModel):
    building_id: int | None
    building: str
    special: int
    people: list[PersonLineRead]


class ReachIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    person_ids: list[int] = Field(max_length=1000)
    how: str = Field(max_length=16)


class ReachResult(BaseModel):
    added: int


class WatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    person_id: int
    tag: str = Field(max_length=32)
    note: str | None = Field(None, max_length=2000)


class WatchRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    campaign_id: int
    person_id: int
    tag: str
    note: str | None
    since: datetime
    ended_at: datetime | None


class TestResultIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    person_id: int
    kind: str = Field(max_length=16)
    result: str = Field(max_length=16)
    sampled_on: date | None = None


class TestResultRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    campaign_id: int
    person_id: int
    kind: str
    result: str
    sampled_on: date
    recorded_at: datetime


class OrgLineRead(BaseModel):
    organisation_id: int
    name: str
    uscc: str
    reported: int
    abnormal: int


class TaskRead(BaseModel):
    id: int
    campaign_id: int
    campaign_title: str
    kind: str
    region_id: int
    place: str
    status: str
    residents: int
    special: int
    reached: int
    done_at: datetime | None
    note: str | None


class TaskDoneIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str | None = Field(None, max_length=4000)


class HelpCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    category_code: str = Field(max_length=32)
    text: str = Field(max_length=4000)
    person_id: int | None = None


class HelpRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    campaign_id: int
    person_id: int | None
    category_code: str
    text: str
    via: str
    status: str
    case_id: int | None
    assignee_account_id: int | None
    escalation_level: int
    created_at: datetime
    due_at: datetime
    answered_at: datetime | None
    answer: str | None
    escalated_at: datetime | None
    closed_at: datetime | None


class HelpLineRead(HelpRead):
    name: str
    place: str
    special: bool
    overdue: bool


class HelpAnswerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    answer: str = Field(max_length=4000)


class HelpCloseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str = Field(max_length=4000)


class SuppliesItemRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name: str
    unit: str


class DeliveryIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    room_id: int
    quantities: dict[str, Any]
    note: str | None = Field(None, max_length=4000)


class DeliveryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    room_id: int
    household_id: int | None
    item_code: str
    quantity: float
    delivered_at: datetime


class HouseholdRead(BaseModel):
    room_id: int
    room: str
    residents: int
    special: bool
    totals: dict[str, float]


class BuildingHouseholdsRead(BaseModel):
    building_id: int | None
    building: str
    served: int
    households: list[HouseholdRead]
