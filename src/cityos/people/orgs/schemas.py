"""API schemas of organisations, departments and the responsibility list."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from cityos.people.models import OrganisationKind


class OrganisationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    uscc: str = Field(max_length=40, description="统一社会信用代码 (GB 32100)")
    name: str = Field(max_length=200)
    kind: OrganisationKind
    region_id: int
    address: str | None = Field(default=None, max_length=400)


class OrganisationUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    uscc: str | None = Field(default=None, max_length=40)
    name: str | None = Field(default=None, max_length=200)
    kind: OrganisationKind | None = None
    region_id: int | None = None
    address: str | None = Field(default=None, max_length=400)


class OrganisationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    uscc: str
    name: str
    kind: str
    region_id: int
    address: str | None
    created_at: datetime


class OrganisationPage(BaseModel):
    items: list[OrganisationRead]
    page: int
    size: int
    total: int | None = None


class DepartmentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(max_length=64)
    name: str = Field(max_length=200)
    region_id: int
    parent_id: int | None = None


class DepartmentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    name: str
    region_id: int
    parent_id: int | None
    created_at: datetime


class DepartmentPage(BaseModel):
    items: list[DepartmentRead]
    page: int
    size: int
    total: int | None = None


class ResponsibilityCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    case_category: str = Field(max_length=80)
    region_id: int


class ResponsibilityRead(BaseModel):
    id: int
    department_id: int
    department_name: str
    case_category: str
    region_id: int
    region_name: str


class ResponsibilityPage(BaseModel):
    items: list[ResponsibilityRead]
    page: int
    size: int
    total: int | None = None
