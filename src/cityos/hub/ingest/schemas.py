"""API schemas of hub.ingest: devices, profiles, ingest results and figures."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from cityos.hub.ingest.service import DeviceRow, IngestStats


class DeviceCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(max_length=64)
    kind: str = Field(max_length=32)
    name: str = Field(max_length=128)
    region_id: int = Field(ge=1)
    profile_code: str = Field(max_length=64)
    lon: float | None = None
    lat: float | None = None
    tenant: str = Field(default="default", max_length=64)


class DeviceRead(BaseModel):
    id: int
    code: str
    kind: str
    name: str
    region_id: int
    status: str
    lon: float | None
    lat: float | None
    last_seen_at: datetime | None
    state: dict[str, Any]
    profile_code: str
    tenant: str
    entity_id: str
    entity_type: str
    mqtt_topic: str

    @classmethod
    def of(cls, row: DeviceRow, prefix: str) -> DeviceRead:
        d, b = row.device, row.binding
        return cls(
            id=d.id,
            code=d.code,
            kind=d.kind,
            name=d.name,
            region_id=d.region_id,
            status=d.status,
            lon=d.lon,
            lat=d.lat,
            last_seen_at=d.last_seen_at,
            state=d.state or {},
            profile_code=b.profile_code,
            tenant=b.tenant,
            entity_id=b.entity_id,
            entity_type=b.entity_type,
            mqtt_topic=f"{prefix}/{b.tenant}/devices/{d.code}/attrs",
        )


class DeviceCreated(DeviceRead):
    key: str  # shown once


class DevicePage(BaseModel):
    items: list[DeviceRead]
    total: int
    offset: int
    limit: int


class KeyRead(BaseModel):
    device_id: int
    key: str  # shown once


class ProfileRead(BaseModel):
    code: str
    name: str
    device_kind: str
    entity_type: str
    mapping: dict[str, Any]
    builtin: bool


class FieldProblem(BaseModel):
    field: str
    message: str


class MessageResult(BaseModel):
    index: int
    mid: str | None
    status: str  # accepted | duplicate | rejected
    reason: str | None = None
    errors: list[FieldProblem] = []


class IngestResult(BaseModel):
    accepted: int
    duplicates: int
    rejected: int
    results: list[MessageResult]


class MinuteRead(BaseModel):
    minute: datetime
    accepted: int
    duplicates: int
    rejected: int


class RejectionRead(BaseModel):
    at: datetime
    channel: str
    device_code: str | None
    mid: str | None
    reason: str
    fields: list[FieldProblem]


class BridgeRead(BaseModel):
    connected: bool
    url: str
    topic: str
    received: int
    since: str | None


class StatsRead(BaseModel):
    since: datetime
    accepted: int
    duplicates: int
    rejected: dict[str, int]
    rejected_total: int
    minutes: list[MinuteRead]
    queue_depth: int
    queue_capacity: int
    bridge: BridgeRead | None
    latest_rejections: list[RejectionRead]

    @classmethod
    def of(cls, s: IngestStats, translate_field: Any) -> StatsRead:
        return cls(
            since=s.since,
            accepted=s.accepted,
            duplicates=s.duplicates,
            rejected=s.rejected,
            rejected_total=s.rejected_total,
            minutes=[MinuteRead(**m.__dict__) for m in s.minutes],
            queue_depth=s.queue_depth,
            queue_capacity=s.queue_capacity,
            bridge=BridgeRead(**s.bridge.__dict__) if s.bridge else None,
            latest_rejections=[
                RejectionRead(
                    at=r.at,
                    channel=r.channel,
                    device_code=r.device_code,
                    mid=r.mid,
                    reason=r.reason,
                    fields=[FieldProblem(field=f["field"], message=translate_field(f)) for f in r.fields or []],
                )
                for r in s.latest_rejections
            ],
        )
