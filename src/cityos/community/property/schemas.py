"""API schemas of community.property. Money is integer fen (分); ``*_yuan`` fields are the same
amount written for people (``123.45``)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

Strict = ConfigDict(extra="forbid")


class TariffIn(BaseModel):
    """Any of the estate's charges; those left out keep their value."""

    model_config = Strict

    property_fee_fen_per_m2: int | None = None
    default_area_m2: float | None = None
    parking_monthly_fen: int | None = None
    water_fen_per_m3: int | None = None
    power_fen_per_kwh: int | None = None
    visitor_free_minutes: int | None = None
    visitor_hourly_fen: int | None = None
    visitor_daily_cap_fen: int | None = None
    due_days: int | None = None
    payment_gateway: str | None = Field(default=None, max_length=32)


class TariffRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    estate_id: int
    organisation_id: int | None
    property_fee_fen_per_m2: int
    default_area_m2: float
    parking_monthly_fen: int
    water_fen_per_m3: int
    power_fen_per_kwh: int
    visitor_free_minutes: int
    visitor_hourly_fen: int
    visitor_daily_cap_fen: int
    due_days: int
    payment_gateway: str
    stored: bool = True  # False: the shipped defaults, never set for this estate


class BillingRunIn(BaseModel):
    model_config = Strict

    period: str = Field(max_length=16)
    kinds: list[str] | None = Field(default=None, max_length=4)


class SkippedRead(BaseModel):
    room_id: int
    kind: str
    reason: str


class BillingRunRead(BaseModel):
    estate_id: int
    period: str
    created: int
    existing: int
    total_fen: int
    skipped: list[SkippedRead]


class BillRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    no: str
    title: str
    estate_id: int
    building_id: int | None
    room_id: int
    kind: str
    period: str
    amount_fen: int
    amount_yuan: str
    detail: dict[str, Any]
    status: str
    issued_at: datetime
    due_at: datetime
    paid_at: datetime | None
    payment_id: int | None


class CollectionRead(BaseModel):
    building_id: int | None  # None: the whole estate
    name: str
    bills: int
    paid: int
    unpaid: int
    billed_fen: int
    paid_fen: int
    rate: float


class PaymentIn(BaseModel):
    model_config = Strict

    return_url: str | None = Field(default=None, max_length=500)


class PaymentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    bill_id: int
    gateway: str
    amount_fen: int
    status: str
    pay_url: str
    receipt_no: str | None
    created_at: datetime
    settled_at: datetime | None


class ReceiptRead(BaseModel):
    receipt_no: str
    payment_id: int
    bill_no: str
    bill_title: str
    amount_fen: int
    amount_yuan: str
    paid_at: datetime
    gateway: str
    gateway_ref: str | None
    estate: str
    address: str
    payee: str


class DeviceIn(BaseModel):
    model_config = Strict

    kind: str = Field(max_length=32)
    code: str = Field(max_length=64)
    name: str = Field(max_length=128)
    region_id: int | None = None
    compartments: int | None = None
    stream: str | None = Field(default=None, max_length=16)
    visitor: bool = False


class DeviceRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    kind: str
    name: str
    region_id: int
    status: str
    state: dict[str, Any]
    last_seen_at: datetime | None


class RegisteredRead(BaseModel):
    device: DeviceRead
    key: str | None  # shown once


class ReadingIn(BaseModel):
    model_config = Strict

    value: float | int | str
    at: datetime | None = None


class ReadingRead(BaseModel):
    device_id: int
    at: datetime
    value: str


class VehicleIn(BaseModel):
    model_config = Strict

    room_id: int
    plate: str = Field(max_length=16)


class VehicleRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    estate_id: int
    room_id: int
    plate: str
    created_at: datetime


class LeaseIn(BaseModel):
    model_config = Strict

    space_id: int
    room_id: int
    since: date | None = None


class LeaseEndIn(BaseModel):
    model_config = Strict

    until: date | None = None


class LeaseRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    estate_id: int
    space_id: int
    room_id: int
    since: date
    until: date | None


class VisitRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    plate: str
    visitor: bool
    space_id: int | None
    entered_at: datetime | None
    exited_at: datetime | None
    fee_fen: int | None
    status: str


class SpaceRead(BaseModel):
    id: int
    code: str
    name: str
    occupied: bool
    plate: str | None
    visitor: bool
    lease_id: int | None
    room_id: int | None


class ParkingRead(BaseModel):
    spaces: list[SpaceRead]
    occupied: int
    inside: list[VisitRead]
    recent: list[VisitRead]
    fees_today_fen: int


class ParcelRead(BaseModel):
    """A parcel as the property office sees it: the recipient's phone masked, no pickup code."""

    id: int
    title: str
    locker_id: int
    compartment: int
    room_id: int | None
    phone_masked: str | None
    courier: str | None
    tracking_no: str | None
    status: str
    deposited_at: datetime
    reminded_at: datetime | None
    picked_up_at: datetime | None
    returned_at: datetime | None


class MyParcelRead(ParcelRead):
    """A parcel of the caller's own, with its pickup code."""

    code: str | None
    locker_name: str


class InspectionIn(BaseModel):
    model_config = Strict

    room_id: int
    correct: bool
    bin_id: int | None = None
    at: datetime | None = None


class SortingRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    room_id: int
    building_id: int | None
    correct: bool
    source: str
    at: datetime


class RankRead(BaseModel):
    rank: int
    building_id: int
    name: str
    correct: int
    wrong: int
    accuracy: float


class BinRead(BaseModel):
    id: int
    code: str
    name: str
    status: str
    fill_level: float | None
    stream: str | None


class HouseholdPointsRead(BaseModel):
    room_id: int
    address: str
    points: int
    correct: int
    wrong: int


class GarbageRead(BaseModel):
    month: str
    bins: list[BinRead]
    ranking: list[RankRead]


class MyGarbageRead(BaseModel):
    month: str
    households: list[HouseholdPointsRead]
    ranking: list[RankRead]


class RepairRead(BaseModel):
    id: int
    no: str
    title: str
    category_code: str
    channel: str
    status: str
    created_at: datetime
    link: str


# --- device API -----------------------------------------------------------------------------------------------


class CameraReadIn(BaseModel):
    model_config = Strict

    plate: str = Field(max_length=16)
    direction: str = Field(max_length=8)
    at: datetime
    camera: str | None = Field(default=None, max_length=64)


class CameraReadOut(BaseModel):
    outcome: str  # entered | left | repeat
    duplicate: bool
    visit_id: int | None
    visitor: bool | None
    fee_fen: int | None


class DepositIn(BaseModel):
    model_config = Strict

    compartment: int
    recipient_phone: str | None = Field(default=None, max_length=20)
    room_id: int | None = None
    courier: str | None = Field(default=None, max_length=64)
    tracking_no: str | None = Field(default=None, max_length=64)


class DepositOut(BaseModel):
    parcel_id: int
    compartment: int
    recipient: str  # masked phone or room name


class PickupIn(BaseModel):
    model_config = Strict

    code: str = Field(max_length=12)


class PickupOut(BaseModel):
    parcel_id: int
    compartment: int  # open this one


class BinReadingIn(BaseModel):
    model_config = Strict

    fill_level: float
    at: datetime | None = None


class BinReadingOut(BaseModel):
    status: str
    fill_level: float
    overflowing: bool


class SortingIn(BaseModel):
    model_config = Strict

    room_id: int
    correct: bool
    at: datetime | None = None
    ref: str | None = Field(default=None, max_length=80)


class SortingOut(BaseModel):
    event_id: int
    duplicate: bool
    points: int


class FacilityStateIn(BaseModel):
    model_config = Strict

    status: str = Field(max_length=16)
    state: dict[str, Any] | None = None
    detail: str | None = Field(default=None, max_length=255)
    at: datetime | None = None


class FacilityStateOut(BaseModel):
    status: str
    fault_id: int | None
    case_id: int | None


class NoticeOut(BaseModel):
    payment_id: int
    status: str
