"""Models of community.property (物业): tariffs, bills and payments, meter readings, parking,
parcel lockers, garbage sorting and facility faults.

Money is integer fen (分) everywhere. Spaces, meters, lockers, bins, cameras and facility
equipment are ``places.devices`` Devices; these tables hold what happens around them.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from cityos.core.db import Base, JSONType, PathType, UTCDateTime, utcnow
from cityos.core.i18n import N_, translate

BigId = BigInteger().with_variant(Integer(), "sqlite")


class BillKind(StrEnum):
    PROPERTY_FEE = "property_fee"  # 物业费: per m² per month
    PARKING = "parking"  # 车位费: per space per month
    WATER = "water"  # 水费: metered
    POWER = "power"  # 电费: metered


BILL_KIND_TITLES: dict[str, str] = {
    BillKind.PROPERTY_FEE: N_("Property fee"),
    BillKind.PARKING: N_("Parking fee"),
    BillKind.WATER: N_("Water"),
    BillKind.POWER: N_("Electricity"),
}


class BillStatus(StrEnum):
    UNPAID = "unpaid"
    PAID = "paid"


class PaymentStatus(StrEnum):
    PENDING = "pending"  # waiting for the payer at the gateway
    PAID = "paid"
    DECLINED = "declined"  # the payer cancelled or the gateway refused
    FAILED = "failed"  # the gateway's notice did not match the payment (amount); nothing was paid
    DUPLICATE = "duplicate"  # paid, but the bill was already paid by another payment: to refund


class Tariff(Base):
    """收费标准 of one estate (小区), set by its property company."""

    __tablename__ = "property_tariff"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("region.id"), unique=True)
    estate_path: Mapped[str] = mapped_column(PathType, index=True)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), nullable=True)
    property_fee_fen_per_m2: Mapped[int] = mapped_column(Integer, default=250)  # per month
    default_area_m2: Mapped[float] = mapped_column(Float, default=90.0)  # rooms without an ``area`` attribute
    parking_monthly_fen: Mapped[int] = mapped_column(Integer, default=30000)
    water_fen_per_m3: Mapped[int] = mapped_column(Integer, default=360)
    power_fen_per_kwh: Mapped[int] = mapped_column(Integer, default=56)
    visitor_free_minutes: Mapped[int] = mapped_column(Integer, default=30)
    visitor_hourly_fen: Mapped[int] = mapped_column(Integer, default=500)
    visitor_daily_cap_fen: Mapped[int] = mapped_column(Integer, default=4000)
    due_days: Mapped[int] = mapped_column(Integer, default=15)  # days after the period's end
    payment_gateway: Mapped[str] = mapped_column(String(32), default="sandbox")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Bill(Base):
    """账单 of one room for one kind and one month; a billing run makes at most one of each."""

    __tablename__ = "property_bill"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    no: Mapped[str] = mapped_column(String(40), unique=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    building_id: Mapped[int | None] = mapped_column(ForeignKey("region.id"), nullable=True, index=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    region_path: Mapped[str] = mapped_column(PathType, index=True)  # the room's
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), nullable=True)
    kind: Mapped[str] = mapped_column(String(16))
    period: Mapped[str] = mapped_column(String(7), index=True)  # 2026-11
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    detail: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    status: Mapped[str] = mapped_column(String(16), default=BillStatus.UNPAID)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    payment_id: Mapped[int | None] = mapped_column(Integer, nullable=True)  # the payment that paid it
    last_reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    __table_args__ = (
        UniqueConstraint("room_id", "kind", "period", name="uq_property_bill_room_kind_period"),
        Index("ix_property_bill_status_due_at", "status", "due_at"),
    )

    @property
    def title(self) -> str:
        return translate(
            "{period} {kind}", period=self.period, kind=translate(BILL_KIND_TITLES.get(self.kind, self.kind))
        )


class BillPayment(Base):
    """缴费: one attempt to pay a bill through a payment gateway; paid only by a verified notice."""

    __tablename__ = "property_payment"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    bill_id: Mapped[int] = mapped_column(ForeignKey("property_bill.id", ondelete="CASCADE"), index=True)
    gateway: Mapped[str] = mapped_column(String(32))
    external_id: Mapped[str] = mapped_column(String(64))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16), default=PaymentStatus.PENDING)
    payer_account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"), nullable=True, index=True)
    pay_url: Mapped[str] = mapped_column(String(512))
    return_url: Mapped[str] = mapped_column(String(512), default="/community/bills")
    gateway_ref: Mapped[str | None] = mapped_column(String(64), nullable=True)  # the gateway's transaction no.
    receipt_no: Mapped[str | None] = mapped_column(String(32), nullable=True, unique=True)
    note: Mapped[str | None] = mapped_column(String(255), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    __table_args__ = (UniqueConstraint("gateway", "external_id", name="uq_property_payment_gateway_external"),)


PAYMENT_STATUS_TITLES: dict[str, str] = {
    PaymentStatus.PENDING: N_("Waiting for payment"),
    PaymentStatus.PAID: N_("Paid"),
    PaymentStatus.DECLINED: N_("Cancelled"),
    PaymentStatus.FAILED: N_("Failed"),
    PaymentStatus.DUPLICATE: N_("Paid twice: to be refunded"),
}


class MeterReading(Base):
    """One reading of a water or power meter (a Device of kind meter_water / meter_power placed in
    a room), in thousandths of its unit (m³, kWh), so sums stay exact."""

    __tablename__ = "property_meter_reading"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("device.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    value_milli: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (UniqueConstraint("device_id", "at", name="uq_property_meter_reading_device_at"),)


class ParkingLease(Base):
    """A parking space (Device kind parking_spot) let to or owned by a household (room)."""

    __tablename__ = "property_parking_lease"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    space_id: Mapped[int] = mapped_column(ForeignKey("device.id", ondelete="CASCADE"), index=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    since: Mapped[date] = mapped_column(Date)
    until: Mapped[date | None] = mapped_column(Date, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Vehicle(Base):
    """A plate registered to a household; other plates are visitors."""

    __tablename__ = "property_vehicle"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    region_path: Mapped[str] = mapped_column(PathType, index=True)  # the room's
    plate: Mapped[str] = mapped_column(String(10))
    registered_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("estate_id", "plate", name="uq_property_vehicle_estate_plate"),)


class ParkingEvent(Base):
    """A camera's plate read at the estate's gate; the same read sent twice is one row."""

    __tablename__ = "property_parking_event"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    camera_id: Mapped[int] = mapped_column(ForeignKey("device.id", ondelete="CASCADE"))
    plate: Mapped[str] = mapped_column(String(10))
    direction: Mapped[str] = mapped_column(String(4))  # in | out
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    outcome: Mapped[str] = mapped_column(String(16))  # entered | left | repeat
    visit_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint("camera_id", "plate", "direction", "at", name="uq_property_parking_event_read"),
        Index("ix_property_parking_event_estate_plate_at", "estate_id", "plate", "at"),
    )


class ParkingVisit(Base):
    """A vehicle's stay from entry to exit; visitors pay by the hour after the free period."""

    __tablename__ = "property_parking_visit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    estate_path: Mapped[str] = mapped_column(PathType, index=True)
    plate: Mapped[str] = mapped_column(String(10))
    vehicle_id: Mapped[int | None] = mapped_column(
        ForeignKey("property_vehicle.id", ondelete="SET NULL"), nullable=True
    )
    visitor: Mapped[bool] = mapped_column(Boolean)
    space_id: Mapped[int | None] = mapped_column(ForeignKey("device.id", ondelete="SET NULL"), nullable=True)
    entered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    exited_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    fee_fen: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    status: Mapped[str] = mapped_column(String(16))  # inside | left | unclosed (no exit seen)

    __table_args__ = (Index("ix_property_parking_visit_estate_plate_status", "estate_id", "plate", "status"),)


class ParcelStatus(StrEnum):
    WAITING = "waiting"
    PICKED_UP = "picked_up"
    RETURNED = "returned"  # not collected within 72 hours: back to the sender


class Parcel(Base):
    """A delivery in a locker compartment, with its 6-digit pickup code (encrypted; a keyed hash
    finds it)."""

    __tablename__ = "property_parcel"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    estate_path: Mapped[str] = mapped_column(PathType, index=True)
    locker_id: Mapped[int] = mapped_column(ForeignKey("device.id", ondelete="CASCADE"))
    compartment: Mapped[int] = mapped_column(Integer)
    room_id: Mapped[int | None] = mapped_column(ForeignKey("region.id"), nullable=True, index=True)
    recipient_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), nullable=True, index=True)
    phone_enc: Mapped[str | None] = mapped_column(Text, nullable=True)
    phone_masked: Mapped[str | None] = mapped_column(String(16), nullable=True)
    code_enc: Mapped[str] = mapped_column(Text)
    code_hash: Mapped[str] = mapped_column(String(64), index=True)
    courier: Mapped[str | None] = mapped_column(String(64), nullable=True)
    tracking_no: Mapped[str | None] = mapped_column(String(64), nullable=True)
    status: Mapped[str] = mapped_column(String(16), default=ParcelStatus.WAITING)
    deposited_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    picked_up_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    returned_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    __table_args__ = (
        Index("ix_property_parcel_locker_status", "locker_id", "status"),
        Index("ix_property_parcel_status_deposited_at", "status", "deposited_at"),
    )

    @property
    def title(self) -> str:
        return translate("Parcel in compartment {n}", n=self.compartment)


class SortingEvent(Base):
    """垃圾分类: one household's drop judged correct or not, by the bin's camera or an inspector."""

    __tablename__ = "property_sorting_event"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("region.id"))
    building_id: Mapped[int | None] = mapped_column(ForeignKey("region.id"), nullable=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    bin_id: Mapped[int | None] = mapped_column(ForeignKey("device.id", ondelete="SET NULL"), nullable=True)
    correct: Mapped[bool] = mapped_column(Boolean)
    source: Mapped[str] = mapped_column(String(16))  # camera | inspector
    ref: Mapped[str | None] = mapped_column(String(80), nullable=True, unique=True)  # the sender's id: once
    by_account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"), nullable=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_property_sorting_event_estate_at", "estate_id", "at"),)


class HouseholdPoints(Base):
    """A household's sorting points: +1 for a correct drop, −1 for a wrong one, never below 0."""

    __tablename__ = "property_household_points"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("region.id"), unique=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    region_path: Mapped[str] = mapped_column(PathType)
    points: Mapped[int] = mapped_column(Integer, default=0)
    correct: Mapped[int] = mapped_column(Integer, default=0)
    wrong: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class FacilityFault(Base):
    """A facility device's fault (elevator, pump, fire panel, light) and the repair case it opened."""

    __tablename__ = "property_facility_fault"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("device.id", ondelete="CASCADE"), index=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    detail: Mapped[str] = mapped_column(String(255), default="")
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case.id", ondelete="SET NULL"), nullable=True)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    cleared_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
