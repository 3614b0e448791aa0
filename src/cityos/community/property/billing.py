"""Bills (账单): the monthly billing run of an estate — property fee by floor area, parking by
space, water and power by metered consumption — money in integer fen; the collection figures
per building; meter readings; overdue reminders."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from cityos.core import bus
from cityos.core.actor import Actor, subtree_clause
from cityos.core.db import utcnow
from cityos.core.errors import Conflict, FieldError, Forbidden, Invalid, NotFound
from cityos.core.i18n import N_
from cityos.core.pagination import PageParams, fetch_page
from cityos.places.devices import service as devices
from cityos.places.devices.models import Device
from cityos.places.models import Region, RegionLevel

from .estates import (
    aware,
    managed_estate,
    my_rooms,
    parse_period,
    rooms_of_estate,
    tariff_of,
)
from .events import BillOverdue
from .models import Bill, BillKind, BillStatus, MeterReading, ParkingLease, Tariff

KINDS: tuple[str, ...] = tuple(k.value for k in BillKind)
METER_KINDS: dict[str, str] = {BillKind.WATER: "meter_water", BillKind.POWER: "meter_power"}
UNITS: dict[str, str] = {BillKind.WATER: "m3", BillKind.POWER: "kWh"}
_LETTER = {BillKind.PROPERTY_FEE: "P", BillKind.PARKING: "C", BillKind.WATER: "W", BillKind.POWER: "E"}
REMIND_EVERY = timedelta(days=7)

MSG_KINDS = N_("Choose among: property fee, parking, water, electricity.")
MSG_FUTURE = N_("This month has not begun yet.")
MSG_NO_TARIFF = N_("Set this estate's charges first.")
MSG_READING = N_("Give the meter's reading: a number from 0 to 1,000,000,000 with at most 3 decimals.")
MSG_NOT_METER = N_("This device is not a water or electricity meter.")
MSG_READING_TAKEN = N_("This meter already has a different reading at this time.")
MSG_READ_AT = N_("A reading cannot be in the future.")
SKIP_NO_READINGS = N_("No readings in this month")
SKIP_WENT_DOWN = N_("The meter's reading went down (replaced meter?)")
SKIP_ZERO = N_("Nothing to charge")


def fen(value: Decimal) -> int:
    """Round to whole fen, halves up (四舍五入)."""
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def to_milli(value: Any, *, field: str = "value") -> int:
    """A reading as thousandths of its unit; Invalid for anything but 0 … 1e9 with ≤ 3 decimals."""
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise Invalid(details=[FieldError(field, MSG_READING)])
    try:
        exact = Decimal(str(value)) * 1000
    except InvalidOperation:
        raise Invalid(details=[FieldError(field, MSG_READING)]) from None
    if not exact.is_finite() or exact != exact.to_integral_value() or not 0 <= exact <= 10**12:
        raise Invalid(details=[FieldError(field, MSG_READING)])
    return int(exact)


def from_milli(value: int) -> str:
    return str((Decimal(value) / 1000).normalize()) if value else "0"


@dataclass(frozen=True)
class Skipped:
    room_id: int
    kind: str
    reason: str  # msgid


@dataclass
class BillingRun:
    estate_id: int
    period: str
    created: list[Bill] = field(default_factory=list)
    existing: int = 0
    skipped: list[Skipped] = field(default_factory=list)

    @property
    def total_fen(self) -> int:
        return sum(b.amount_fen for b in self.created)


def _buildings(session: Session, estate: Region) -> dict[int, Region]:
    rows = session.scalars(
        select(Region).where(Region.level == RegionLevel.BUILDING, subtree_clause(Region.path, estate.path))
    )
    return {r.id: r for r in rows}


def _building_of(room: Region, buildings: dict[int, Region]) -> int | None:
    for part in room.path.strip("/").split("/"):
        if part and int(part) in buildings:
            return int(part)
    return None


def _area(room: Region, tariff: Tariff) -> Decimal:
    """The room's floor area (``attrs["area"]``, m², a number or a numeric string), else the default."""
    raw = (room.attrs or {}).get("area")
    if raw is not None and not isinstance(raw, bool):
        try:
            area = Decimal(str(raw))
        except (InvalidOperation, ValueError):
            area = Decimal(0)
        if area.is_finite() and 0 < area < 100_000:
            return area
    return Decimal(str(tariff.default_area_m2))


def _consumption(session: Session, meter: Device, start: datetime, end: datetime) -> tuple[int, int] | None:
    """(from, to) readings in thousandths: the last reading before the month (else the month's
    first) and the last one before its end; None without two readings."""
    before = session.scalar(
        select(MeterReading.value_milli)
        .where(MeterReading.device_id == meter.id, MeterReading.at < start)
        .order_by(MeterReading.at.desc())
        .limit(1)
    )
    within = session.execute(
        select(MeterReading.at, MeterReading.value_milli)
        .where(MeterReading.device_id == meter.id, MeterReading.at >= start, MeterReading.at < end)
        .order_by(MeterReading.at)
    ).all()
    if not within or (before is None and len(within) < 2):
        return None
    first = before if before is not None else within[0][1]
    return int(first), int(within[-1][1])


def run_billing(
    session: Session,
    actor: Actor,
    *,
    estate_id: int,
    period: str,
    kinds: list[str] | None = None,
    now: datetime | None = None,
) -> BillingRun:
    """出账: the bills of one month for every room of an estate. Running it again makes only the
    bills still missing (one per room, kind and month), so it is safe to repeat."""
    estate = managed_estate(session, actor, estate_id)
    now = now or utcnow()
    chosen = list(dict.fromkeys(KINDS if kinds is None else kinds))
    errors: list[FieldError] = []
    if not chosen or any(k not in KINDS for k in chosen):
        errors.append(FieldError("kinds", MSG_KINDS))
    try:
        start, end = parse_period(period)
    except Invalid as exc:
        errors.extend(exc.details)
        start = end = now
    else:
        if start > now:
            errors.append(FieldError("period", MSG_FUTURE))
    tariff = tariff_of(session, estate)
    if tariff is None:
        errors.append(FieldError("estate_id", MSG_NO_TARIFF))
    if errors:
        raise Invalid(details=errors)
    assert tariff is not None
    run = BillingRun(estate_id=estate.id, period=period)
    done = {
        (room_id, kind)
        for room_id, kind in session.execute(
            select(Bill.room_id, Bill.kind).where(Bill.estate_id == estate.id, Bill.period == period)
        )
    }
    rooms = {r.id: r for r in rooms_of_estate(session, estate)}
    buildings = _buildings(session, estate)
    due_at = end + timedelta(days=tariff.due_days)
    charges: list[tuple[Region, str, int, dict[str, Any]]] = []
    if BillKind.PROPERTY_FEE in chosen:
        for room in rooms.values():
            area = _area(room, tariff)
            amount = fen(area * tariff.property_fee_fen_per_m2)
            detail = {"area_m2": str(area.normalize()), "rate_fen": tariff.property_fee_fen_per_m2}
            charges.append((room, BillKind.PROPERTY_FEE, amount, detail))
    if BillKind.PARKING in chosen:
        spaces: dict[int, list[int]] = {}
        leases = session.execute(
            select(ParkingLease.room_id, ParkingLease.space_id).where(
                ParkingLease.estate_id == estate.id,
                ParkingLease.since < end.date(),
                or_(ParkingLease.until.is_(None), ParkingLease.until >= start.date()),
            )
        ).all()
        for room_id, space_id in leases:
            spaces.setdefault(room_id, []).append(space_id)
        codes = dict(session.execute(select(Device.id, Device.code).where(Device.id.in_({s for _, s in leases}))).all())
        for room_id, space_ids in spaces.items():
            if room_id in rooms:
                detail = {
                    "spaces": sorted(codes.get(s, str(s)) for s in space_ids),
                    "rate_fen": tariff.parking_monthly_fen,
                }
                charges.append((rooms[room_id], BillKind.PARKING, len(space_ids) * tariff.parking_monthly_fen, detail))
    for kind, device_kind in METER_KINDS.items():
        if kind not in chosen:
            continue
        rate = tariff.water_fen_per_m3 if kind == BillKind.WATER else tariff.power_fen_per_kwh
        per_room: dict[int, list[dict[str, Any]]] = {}
        meters = session.scalars(
            select(Device)
            .where(Device.kind == device_kind, subtree_clause(Device.region_path, estate.path))
            .order_by(Device.code)
        )
        for meter in meters:
            if meter.region_id not in rooms:
                continue
            readings = _consumption(session, meter, start, end)
            if readings is None:
                run.skipped.append(Skipped(meter.region_id, kind, SKIP_NO_READINGS))
                continue
            if readings[1] < readings[0]:
                run.skipped.append(Skipped(meter.region_id, kind, SKIP_WENT_DOWN))
                continue
            per_room.setdefault(meter.region_id, []).append(
                {"meter": meter.code, "from": readings[0], "to": readings[1]}
            )
        for room_id, used in per_room.items():
            total = sum(m["to"] - m["from"] for m in used)
            detail = {
                "meters": [
                    {"meter": m["meter"], "from": from_milli(m["from"]), "to": from_milli(m["to"])} for m in used
                ],
                "consumption": from_milli(total),
                "unit": UNITS[kind],
                "rate_fen": rate,
            }
            charges.append((rooms[room_id], kind, fen(Decimal(total) * rate / 1000), detail))
    compact = period.replace("-", "")
    for room, kind, amount, detail in charges:
        if (room.id, kind) in done:
            run.existing += 1
            continue
        if amount <= 0:
            run.skipped.append(Skipped(room.id, kind, SKIP_ZERO))
            continue
        bill = Bill(
            no=f"{compact}{_LETTER[BillKind(kind)]}{room.id:08d}",
            estate_id=estate.id,
            building_id=_building_of(room, buildings),
            room_id=room.id,
            region_path=room.path,
            organisation_id=tariff.organisation_id,
            kind=kind,
            period=period,
            amount_fen=amount,
            detail=detail,
            status=BillStatus.UNPAID,
            issued_at=now,
            due_at=due_at,
        )
        session.add(bill)
        run.created.append(bill)
        done.add((room.id, kind))
    session.flush()
    return run


# --- reading ----------------------------------------------------------------------------------------------------


def get_bill(session: Session, actor: Actor, bill_id: int) -> Bill:
    """A bill its household or its estate's manager may see (404 for anyone else)."""
    bill = session.get(Bill, bill_id)
    if bill is None:
        raise NotFound()
    if actor.can("bill:pay") and bill.room_id in my_rooms(session, actor):
        return bill
    if actor.can("property:manage", region=bill.region_path):
        managed_estate(session, actor, bill.estate_id)
        return bill
    raise NotFound()


def list_bills(
    session: Session,
    actor: Actor,
    params: PageParams,
    *,
    estate_id: int,
    period: str | None = None,
    status: str | None = None,
    kind: str | None = None,
    building_id: int | None = None,
    overdue: bool = False,
    now: datetime | None = None,
) -> tuple[list[Bill], int | None]:
    estate = managed_estate(session, actor, estate_id)
    query = select(Bill).where(Bill.estate_id == estate.id)
    if period:
        parse_period(period)
        query = query.where(Bill.period == period)
    if status:
        query = query.where(Bill.status == status)
    if kind:
        query = query.where(Bill.kind == kind)
    if building_id is not None:
        query = query.where(Bill.building_id == building_id)
    if overdue:
        query = query.where(Bill.status == BillStatus.UNPAID, Bill.due_at < (now or utcnow()))
    return fetch_page(session, query.order_by(Bill.period.desc(), Bill.region_path, Bill.kind), params)


def my_bills(session: Session, actor: Actor, *, unpaid_only: bool = True) -> list[Bill]:
    """The bills of the actor's household, the oldest due first (unpaid only, by default)."""
    actor.require("bill:pay")
    rooms = my_rooms(session, actor)
    if not rooms:
        return []
    query = select(Bill).where(Bill.room_id.in_(rooms))
    if unpaid_only:
        query = query.where(Bill.status == BillStatus.UNPAID)
    return list(session.scalars(query.order_by(Bill.status.desc(), Bill.due_at, Bill.id).limit(200)))


@dataclass(frozen=True)
class Collection:
    """收缴: one building's (or the estate's) bills of a month."""

    building_id: int | None
    name: str
    bills: int
    paid: int
    billed_fen: int
    paid_fen: int

    @property
    def unpaid(self) -> int:
        return self.bills - self.paid

    @property
    def rate(self) -> float:
        return self.paid_fen / self.billed_fen if self.billed_fen else 0.0


def collection(session: Session, actor: Actor, *, estate_id: int, period: str) -> list[Collection]:
    """Paid and unpaid per building for one month; the last line is the whole estate."""
    estate = managed_estate(session, actor, estate_id)
    parse_period(period)
    paid = Bill.status == BillStatus.PAID
    rows = session.execute(
        select(
            Bill.building_id,
            func.count(),
            func.sum(case((paid, 1), else_=0)),
            func.sum(Bill.amount_fen),
            func.sum(case((paid, Bill.amount_fen), else_=0)),
        )
        .where(Bill.estate_id == estate.id, Bill.period == period)
        .group_by(Bill.building_id)
    ).all()
    names = dict(
        session.execute(select(Region.id, Region.name).where(Region.id.in_({r[0] for r in rows if r[0]}))).all()
    )
    out = [
        Collection(b, names.get(b, "-") if b else "-", int(n), int(p or 0), int(s or 0), int(sp or 0))
        for b, n, p, s, sp in rows
    ]
    out.sort(key=lambda c: c.name)
    total = Collection(
        None,
        estate.name,
        sum(c.bills for c in out),
        sum(c.paid for c in out),
        sum(c.billed_fen for c in out),
        sum(c.paid_fen for c in out),
    )
    return [*out, total]


def collection_rate(session: Session, *, region_path: str, period: str) -> float | None:
    """Paid fen over billed fen of a month within a subtree (None when nothing was billed)."""
    billed, paid = session.execute(
        select(
            func.sum(Bill.amount_fen),
            func.sum(case((Bill.status == BillStatus.PAID, Bill.amount_fen), else_=0)),
        ).where(subtree_clause(Bill.region_path, region_path), Bill.period == period)
    ).one()
    return int(paid or 0) / int(billed) if billed else None


# --- meters ------------------------------------------------------------------------------------------------------


def record_reading(session: Session, meter: Device, *, value: Any, at: datetime | None = None) -> MeterReading:
    """A meter's reading (sent by the meter or typed in by the manager 抄表); the same reading sent
    twice is kept once."""
    if meter.kind not in METER_KINDS.values():
        raise Forbidden(MSG_NOT_METER)
    milli = to_milli(value)
    now = utcnow()
    at = aware(at or now)
    if at > now + timedelta(minutes=5):
        raise Invalid(details=[FieldError("at", MSG_READ_AT)])
    existing = session.scalar(select(MeterReading).where(MeterReading.device_id == meter.id, MeterReading.at == at))
    if existing is not None:
        if existing.value_milli != milli:
            raise Conflict(details=[FieldError("value", MSG_READING_TAKEN)])
        return existing
    reading = MeterReading(device_id=meter.id, at=at, value_milli=milli)
    session.add(reading)
    latest = (meter.state or {}).get("reading_at")
    if latest is None or latest <= at.isoformat():
        devices.record_state(session, meter, state={"reading": float(from_milli(milli)), "reading_at": at.isoformat()})
    session.flush()
    return reading


def read_meter(
    session: Session, actor: Actor, *, device_id: int, value: Any, at: datetime | None = None
) -> MeterReading:
    """抄表 by the property manager."""
    from .estates import estate_of

    meter = devices.get(session, actor, device_id)
    estate = estate_of(session, meter.region_path) if meter.kind in METER_KINDS.values() else None
    if estate is None:
        raise NotFound()
    managed_estate(session, actor, estate.id)
    return record_reading(session, meter, value=value, at=at)


# --- reminders ---------------------------------------------------------------------------------------------------


def remind_overdue(session: Session, *, now: datetime | None = None, limit: int = 200) -> int:
    """Unpaid bills past their due date: one reminder per bill per 7 days (periodic)."""
    now = now or utcnow()
    bills = session.scalars(
        select(Bill)
        .where(
            Bill.status == BillStatus.UNPAID,
            Bill.due_at < now,
            or_(Bill.last_reminded_at.is_(None), Bill.last_reminded_at <= now - REMIND_EVERY),
        )
        .order_by(Bill.due_at)
        .limit(limit)
    ).all()
    for bill in bills:
        bill.last_reminded_at = now
        bus.publish(session, BillOverdue(bill_id=bill.id), key=f"bill-overdue:{bill.id}:{now:%Y%m%d%H%M}")
    session.flush()
    return len(bills)


def overdue_count(session: Session, *, region_path: str, now: datetime | None = None) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(Bill)
            .where(
                and_(subtree_clause(Bill.region_path, region_path), Bill.status == BillStatus.UNPAID),
                Bill.due_at < (now or utcnow()),
            )
        )
        or 0
    )


def yuan(amount_fen: int | None) -> str:
    """Fen as yuan with two decimals (12345 → 123.45), exact."""
    if amount_fen is None:
        return "-"
    sign = "-" if amount_fen < 0 else ""
    whole, cents = divmod(abs(int(amount_fen)), 100)
    return f"{sign}{whole:,}.{cents:02d}"
