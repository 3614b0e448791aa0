"""API schemas of identity."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class PasswordSignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class CodeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    phone: str = Field(min_length=1, max_length=20)


class CodeSignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    phone: str = Field(min_length=1, max_length=20)
    code: str = Field(pattern=r"^\s*\d{6}\s*$")


class RefreshIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    refresh_token: str = Field(min_length=1, max_length=2048)


class TokenOut(BaseModel):
    access_token: str
    refresh_token: str
    token_type: str = "bearer"
    expires_in: int


class ClientTokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int
    scope: str


class WhoAmI(BaseModel):
    account_id: int | None
    client_id: str | None
    label: str
    roles: list[str]
    permissions: list[str]
    scope_region_id: int | None
    scope_path: str
    person_id: int | None
    department_id: int | None
    organisation_id: int | None


class AccountCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str | None = Field(default=None, max_length=64)
    display_name: str = Field(max_length=200)
    password: str | None = Field(default=None, max_length=256)
    phone: str | None = Field(default=None, max_length=20)
    roles: list[str] = Field(max_length=9)
    scope_region_id: int
    department_id: int | None = None
    organisation_id: int | None = None
    person_id: int | None = None


class AccountUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    display_name: str | None = Field(default=None, max_length=200)
    active: bool | None = None
    password: str | None = Field(default=None, max_length=256)


class RoleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: str = Field(max_length=32)


class AccountRead(BaseModel):
    id: int
    username: str | None
    display_name: str
    roles: list[str]
    scope_region_id: int
    active: bool
    locked_until: datetime | None
    last_sign_in_at: datetime | None
    person_id: int | None
    department_id: int | None
    organisation_id: int | None
    created_at: datetime


class AccountPage(BaseModel):
    items: list[AccountRead]
    page: int
    size: int
    total: int | None = None


class ClientCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(max_length=200)
    scopes: list[str] = Field(max_length=10)
    scope_region_id: int
    description: str | None = Field(default=None, max_length=2000)
    organisation_id: int | None = None


class ClientRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    client_id: str
    name: str
    scopes: list[str]
    scope_region_id: int
    active: bool
    description: str | None
    created_at: datetime


class ClientCreated(ClientRead):
    client_secret: str = Field(description="Shown this once; store it safely")


class ClientPage(BaseModel):
    items: list[ClientRead]
    page: int
    size: int
    total: int | None = None


class AuditRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    account_id: int | None
    actor_label: str
    action: str
    outcome: str
    subject_type: str | None
    subject_id: str | None
    fields: str | None
    ip: str | None
    request_id: str | None
    detail: str | None


class AuditPage(BaseModel):
    items: list[AuditRead]
    page: int
    size: int
    total: int | None = None


class SmsRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    phone_masked: str
    body: str
    created_at: datetime


class SmsPage(BaseModel):
    items: list[SmsRead]
    page: int
    size: int
    total: int | None = None


class NotificationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    title: str
    body: str
    link: str | None
    channels: str
    read_at: datetime | None
    created_at: datetime


class NotificationPage(BaseModel):
    items: list[NotificationRead]
    page: int
    size: int
    total: int | None = None
    unread: int = 0
