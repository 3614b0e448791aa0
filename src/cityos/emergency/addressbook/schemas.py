"""API schemas of emergency.addressbook (云上通讯录, 通知群发)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from cityos.core.i18n import translate
from cityos.emergency.addressbook import broadcasts, service, views
from cityos.emergency.addressbook.models import Broadcast, Group

Role = Literal["staff", "grid_worker", "lead", "volunteer", "resident"]


class GroupRead(BaseModel):
    id: int
    kind: str  # building | grid | manual
    kind_title: str
    name: str
    region_id: int
    synced_at: datetime | None
    members: dict[str, int]  # role -> how many

    @classmethod
    def of(cls, group: Group, counts: dict[str, int]) -> GroupRead:
        return cls(
            id=group.id,
            kind=group.kind,
            kind_title=translate(service.KIND_TITLES.get(group.kind, group.kind)),  # type: ignore[call-overload]
            name=group.name,
            region_id=group.region_id,
            synced_at=group.synced_at,
            members=counts,
        )


class GroupPage(BaseModel):
    items: list[GroupRead]
    page: int
    size: int
    total: int | None = None


class PersonRead(BaseModel):
    """A member or a recipient: residents' names and everyone's phone masked unless pii:read."""

    role: str
    role_title: str
    name: str
    phone: str | None
    place: str
    account_id: int | None
    member_id: int | None = None
    source: str | None = None

    @classmethod
    def of(cls, view: views.PersonView) -> PersonRead:
        return cls(
            role=view.role,
            role_title=translate(service.ROLE_TITLES.get(view.role, view.role)),  # type: ignore[call-overload]
            name=view.name,
            phone=view.phone,
            place=view.place,
            account_id=view.account_id,
            member_id=view.member_id,
            source=view.source,
        )


class MemberPage(BaseModel):
    group: GroupRead
    items: list[PersonRead]
    page: int
    size: int
    total: int
    unmasked: bool


class MemberIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    account_id: StrictInt
    role: Role | None = None  # taken from the account's roles when not given


class GroupCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    region_id: StrictInt
    # Lengths are checked by the service, so a blank or long name gets the field message.
    name: str = Field(max_length=1000)
    members: list[MemberIn] = Field(default_factory=list, max_length=service.MAX_MEMBERS)


class LeadIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    account_id: StrictInt | None  # None: the building has no lead


class LeadRead(BaseModel):
    building_id: int
    account_id: int | None
    name: str | None


class SyncIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    region_id: StrictInt


class SyncRead(BaseModel):
    groups: int
    created: int
    added: int
    removed: int
    updated: int


class BroadcastIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    target_region_id: StrictInt | None = None
    group_id: StrictInt | None = None
    title: str = Field(max_length=1000)
    body: str = Field(max_length=20000)
    urgency: Literal["normal", "urgent"] = "normal"
    campaign_id: StrictInt | None = None


class BuildingReceiptsRead(BaseModel):
    building_id: int | None
    name: str
    recipients: int
    read: int
    unread: int


class ReceiptsRead(BaseModel):
    recipients: int
    read: int
    unread: int
    buildings: list[BuildingReceiptsRead]

    @classmethod
    def of(cls, s: broadcasts.Summary) -> ReceiptsRead:
        return cls(
            recipients=s.recipients,
            read=s.read,
            unread=s.unread,
            buildings=[
                BuildingReceiptsRead(
                    building_id=b.building_id, name=b.name, recipients=b.recipients, read=b.read, unread=b.unread
                )
                for b in s.buildings
            ],
        )


class BroadcastRead(BaseModel):
    id: int
    title: str
    body: str
    urgency: str
    target_region_id: int | None
    group_id: int | None
    target_name: str
    sender_label: str
    campaign_id: int | None
    sent_at: datetime
    recipient_count: int
    sms_count: int
    read_count: int | None = None  # for the sender and staff over the target
    read_at: datetime | None = None  # when the caller read it, for a recipient
    receipts: ReceiptsRead | None = None  # per building, for the sender and staff over the target

    @classmethod
    def of(
        cls,
        row: Broadcast,
        *,
        read_count: int | None = None,
        read_at: datetime | None = None,
        receipts: broadcasts.Summary | None = None,
    ) -> BroadcastRead:
        return cls(
            id=row.id,
            title=row.title,
            body=row.body,
            urgency=row.urgency,
            target_region_id=row.target_region_id,
            group_id=row.group_id,
            target_name=row.target_name,
            sender_label=row.sender_label,
            campaign_id=row.campaign_id,
            sent_at=row.sent_at,
            recipient_count=row.recipient_count,
            sms_count=row.sms_count,
            read_count=read_count,
            read_at=read_at,
            receipts=ReceiptsRead.of(receipts) if receipts is not None else None,
        )


class BroadcastPage(BaseModel):
    box: str
    items: list[BroadcastRead]
    page: int
    size: int
    total: int


class UnreadPage(BaseModel):
    items: list[PersonRead]
    page: int
    size: int
    total: int
    unmasked: bool
