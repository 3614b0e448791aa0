"""API schemas of community.access (电子出入码, visitors, goods-out slips, gates, access log)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- passes --------------------------------------------------------------------------------------


class PassCreate(Strict):
    """Get a pass for one of your rooms in the estate (the only one when room_id is left out)."""

    estate_id: int
    room_id: int | None = None


class JoinRoomRead(BaseModel):
    room_id: int
    label: str
    relation: str
    pass_id: int | None


class JoinRead(BaseModel):
    estate_id: int
    estate_name: str
    rooms: list[JoinRoomRead]


class PassRead(BaseModel):
    id: int
    kind: str
    status: str  # active | expired | revoked | cancelled | used_up
    estate_id: int
    room_id: int
    label: str
    relation: str
    holder_name: str  # masked in lists unless pii:read
    valid_from: datetime
    valid_until: datetime
    entries_max: int | None
    entries_left: int | None
    revoked_at: datetime | None
    revoked_reason: str | None
    created_at: datetime


class PassPage(BaseModel):
    items: list[PassRead]
    page: int
    size: int
    total: int | None
    masked: bool


class TokenRead(BaseModel):
    token: str
    step: int
    rotation_seconds: int
    refresh_in: float
    valid_until: datetime


class RevokeIn(Strict):
    reason: str = Field(max_length=1000)


# --- rules and blocked rooms ---------------------------------------------------------------------


class RulesRead(BaseModel):
    estate_id: int
    max_passes_per_person: int
    max_passes_per_household: int
    windows: dict[str, list[str]]
    exit_limit: int | None
    exit_period_hours: int
    visitor_max_hours: int
    visitor_max_entries: int
    rotation_seconds: int
    validity_days: int
    updated_at: datetime | None


class RulesUpdate(Strict):
    """Only the fields given change. ``windows`` replaces every window: relation (owner, tenant,
    family, collective, visitor) → ["HH:MM", "HH:MM"]; a relation left out may pass at any time."""

    max_passes_per_person: Any = None
    max_passes_per_household: Any = None
    windows: Any = None
    exit_limit: Any = None
    exit_period_hours: Any = None
    visitor_max_hours: Any = None
    visitor_max_entries: Any = None
    rotation_seconds: Any = None
    validity_days: Any = None


class BlockIn(Strict):
    room_id: int
    reason: str = Field(max_length=1000)


class BlockedRoomRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    room_id: int
    label: str
    reason: str
    blocked_at: datetime


# --- visitors and goods slips --------------------------------------------------------------------


class VisitorCreate(Strict):
    room_id: int
    name: str = Field(max_length=200)
    phone: str = Field(max_length=32)
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    max_entries: int | None = None


class VisitorRead(BaseModel):
    id: int
    status: str
    room_id: int
    label: str
    visitor_name: str
    visitor_phone: str  # masked
    valid_from: datetime
    valid_until: datetime
    entries_max: int | None
    entries_left: int | None
    link: str | None  # the visitor's page, for the inviting resident to send


class SlipCreate(Strict):
    room_id: int
    description: str = Field(max_length=1000)
    valid_from: datetime | None = None
    valid_until: datetime | None = None


class SlipRead(BaseModel):
    id: int
    status: str
    estate_id: int
    room_id: int
    label: str
    description: str
    code: str | None  # only for the resident who registered it
    person_name: str
    valid_from: datetime
    valid_until: datetime
    used_at: datetime | None
    created_at: datetime


class SlipPage(BaseModel):
    items: list[SlipRead]
    page: int
    size: int
    total: int | None


# --- gates and the log ---------------------------------------------------------------------------


class GateCreate(Strict):
    name: str = Field(max_length=200)
    code: str | None = Field(default=None, max_length=64)
    lon: float | None = Field(default=None, ge=-180, le=180)
    lat: float | None = Field(default=None, ge=-90, le=90)


class GateRead(BaseModel):
    id: int
    code: str
    name: str
    status: str
    last_seen_at: datetime | None
    key: str | None = None  # only in the answer that registered the gate


class PublicKeyRead(BaseModel):
    estate_id: int
    kid: str
    algorithm: str
    public_key: str  # base64 of the raw 32 bytes


class EventRead(BaseModel):
    id: int
    at: datetime
    gate_id: int | None
    gate: str
    pass_id: int | None
    kind: str
    person: str  # masked unless pii:read
    place: str
    direction: str
    result: str
    reason: str
    message: str
    recorded_offline: bool
    late: bool


class EventPage(BaseModel):
    items: list[EventRead]
    page: int
    size: int
    total: int | None
    masked: bool


# --- what gates send -----------------------------------------------------------------------------


class VerifyIn(Strict):
    token: str = Field(max_length=2000)
    direction: Literal["in", "out"]


class VerifyRead(BaseModel):
    allowed: bool
    reason: str
    message: str
    detail: str
    pass_id: int | None
    kind: str | None
    place: str | None
    holder: str | None  # masked
    entries_left: int | None
    event_id: int


class GateEventIn(Strict):
    id: str = Field(min_length=1, max_length=64)
    direction: Literal["in", "out"]
    result: Literal["allowed", "refused"]
    reason: str = Field(default="ok", max_length=32)
    at: datetime
    pass_id: int | None = None


class EventsIn(Strict):
    events: list[GateEventIn] = Field(min_length=1, max_length=500)


class SyncRead(BaseModel):
    accepted: int
    duplicates: int
    late: int


class GoodsCheckIn(Strict):
    code: str = Field(max_length=32)


class GoodsCheckRead(BaseModel):
    allowed: bool
    reason: str
    message: str
    description: str | None
    place: str | None
    valid_until: datetime | None
