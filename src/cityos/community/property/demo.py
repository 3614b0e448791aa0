"""Demo records of 物业 for one estate of the demo city: its tariff; last month's bills (property
fee for every room, parking for let spaces, water and power from meter readings) with about 70 %
paid through the sandbox; parking spaces, some let, cars and visitors inside; a parcel locker with
two parcels waiting; bins at various fill levels with a month of sorting checks; facility devices
with one elevator in fault. Guarded: an estate that already has a tariff is left as it is."""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from cityos.core.actor import SYSTEM
from cityos.core.db import utcnow
from cityos.people.models import Organisation, OrganisationKind, Residence
from cityos.places.devices.models import Device
from cityos.places.models import Region

from . import billing, facilities, garbage, lockers, parking
from .estates import parse_period, previous_period, rooms_of_estate, set_tariff, tariff_of
from .gateways import SANDBOX
from .models import Bill, BillPayment, BillStatus, PaymentStatus

PAID_SHARE = 0.7
_PLATE_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"


def _plate(rng: random.Random, taken: set[str]) -> str:
    while True:
        if rng.random() < 0.3:  # a new-energy car
            plate = f"川A{rng.choice('DF')}{rng.choice(_PLATE_LETTERS)}{rng.randint(0, 9999):04d}"
        else:
            plate = f"川{rng.choice('ABG')}{rng.choice(_PLATE_LETTERS)}{rng.randint(0, 9999):04d}"
        if plate not in taken:
            taken.add(plate)
            return plate


def seed(session: Session, *, estate: Region, community: Region, rng: random.Random) -> None:
    """Fills one estate with the property office's records (under a second for a few hundred rooms)."""
    if tariff_of(session, estate) is not None:
        return
    now = utcnow()
    period = previous_period(now)
    start, end = parse_period(period)
    company = session.scalar(
        select(Organisation.id).where(
            Organisation.kind == OrganisationKind.PROPERTY_COMPANY, Organisation.region_id == estate.id
        )
    )
    tariff = set_tariff(
        session,
        SYSTEM,
        estate_id=estate.id,
        values={
            "property_fee_fen_per_m2": 280,
            "default_area_m2": 89,
            "parking_monthly_fen": 25000,
            "water_fen_per_m3": 350,
            "power_fen_per_kwh": 55,
            "visitor_free_minutes": 30,
            "visitor_hourly_fen": 400,
            "visitor_daily_cap_fen": 3000,
        },
    )
    tariff.organisation_id = company
    rooms = rooms_of_estate(session, estate)
    if not rooms:
        session.flush()
        return
    lived = set(
        session.scalars(
            select(Residence.room_id).where(Residence.room_id.in_([r.id for r in rooms]), Residence.until.is_(None))
        )
    )
    homes = [r for r in rooms if r.id in lived] or rooms
    buildings = list(
        session.scalars(
            select(Region).where(Region.parent_id == estate.id, Region.level == "building").order_by(Region.path)
        )
    )
    code = estate.code

    def add(kind: str, suffix: str, name: str, region: Region | None = None, **extra: object) -> Device:
        made = facilities.add_device(
            session,
            SYSTEM,
            estate_id=estate.id,
            kind=kind,
            code=f"{code}-{suffix}",
            name=name,
            region_id=(region or estate).id,
            **extra,  # type: ignore[arg-type]
        )
        return made.device

    # Parking: let spaces, visitor spaces, the gate camera.
    camera = add("camera", "CAM-P1", "车辆道闸摄像头")
    let = [add("parking_spot", f"P-{n:03d}", f"地下车位 {n:03d}") for n in range(1, 17)]
    for n in range(1, 5):
        add("parking_spot", f"V-{n:02d}", f"访客车位 {n:02d}", visitor=True)
    tenants = rng.sample(homes, min(len(let), len(homes), 12))
    plates: set[str] = set()
    residents_cars = []
    for space, room in zip(let, tenants, strict=False):
        parking.lease_space(
            session, SYSTEM, estate_id=estate.id, space_id=space.id, room_id=room.id, since=start.date()
        )
        residents_cars.append(
            parking.register_vehicle(session, SYSTEM, estate_id=estate.id, room_id=room.id, plate=_plate(rng, plates))
        )
    # Meters with readings before and at the end of last month.
    for room in rng.sample(homes, min(len(homes), 20)):
        water = add("meter_water", f"W-{room.id}", "水表", room)
        power = add("meter_power", f"E-{room.id}", "电表", room)
        base_w, base_e = rng.uniform(50, 900), rng.uniform(1000, 20000)
        billing.record_reading(session, water, value=round(base_w, 3), at=start - timedelta(hours=2))
        billing.record_reading(session, water, value=round(base_w + rng.uniform(4, 18), 3), at=end - timedelta(hours=3))
        billing.record_reading(session, power, value=round(base_e, 1), at=start - timedelta(hours=2))
        billing.record_reading(
            session, power, value=round(base_e + rng.uniform(80, 420), 1), at=end - timedelta(hours=3)
        )
    # Last month's bills, about 70 % paid through the sandbox.
    billing.run_billing(session, SYSTEM, estate_id=estate.id, period=period, now=end)
    bills = session.scalars(
        select(Bill).where(Bill.estate_id == estate.id, Bill.period == period).order_by(Bill.id)
    ).all()
    for bill in bills:
        if rng.random() >= PAID_SHARE:
            continue
        paid_at = end + timedelta(days=rng.randint(0, 10), hours=rng.randint(8, 21))
        payment = BillPayment(
            bill_id=bill.id,
            gateway=SANDBOX,
            external_id=f"sbx_demo_{bill.id}",
            amount_fen=bill.amount_fen,
            status=PaymentStatus.PAID,
            pay_url=f"/pay/sandbox/sbx_demo_{bill.id}",
            gateway_ref=f"SBXDEMO{bill.id:06d}",
            created_at=paid_at - timedelta(minutes=2),
            settled_at=paid_at,
        )
        session.add(payment)
        session.flush()
        payment.receipt_no = f"R{paid_at:%Y%m%d}{payment.id:08d}"
        bill.status, bill.paid_at, bill.payment_id = BillStatus.PAID, paid_at, payment.id
    # Cars inside now: most residents' cars came home, two visitors inside, three left and paid.
    for vehicle in residents_cars:
        if rng.random() < 0.6:
            at = now - timedelta(hours=rng.randint(1, 14), minutes=rng.randint(0, 59))
            parking.camera_read(session, camera, plate=vehicle.plate, direction="in", at=at)
    for n in range(5):
        plate = _plate(rng, plates)
        entered = now - timedelta(hours=rng.randint(2, 6), minutes=rng.randint(0, 59))
        parking.camera_read(session, camera, plate=plate, direction="in", at=entered)
        if n >= 2:
            parking.camera_read(
                session, camera, plate=plate, direction="out", at=entered + timedelta(minutes=rng.randint(20, 110))
            )
    # A locker with two parcels waiting.
    locker = add("locker", "LOCKER-1", "东门快递柜", compartments=24)
    for compartment, room in zip((3, 11), rng.sample(homes, min(2, len(homes))), strict=False):
        lockers.deposit(
            session,
            locker,
            compartment=compartment,
            room_id=room.id,
            courier=rng.choice(("顺丰", "京东", "中通", "邮政")),
            now=now - timedelta(hours=rng.randint(1, 20)),
        )
    # Bins and a month of sorting checks by their cameras.
    bins = []
    for stream, name, level in (
        ("kitchen", "厨余垃圾桶", 0.62),
        ("recyclable", "可回收物桶", 0.35),
        ("hazardous", "有害垃圾桶", 0.12),
        ("other", "其他垃圾桶", 0.84),
    ):
        bin_ = add("bin", f"BIN-{stream}", name, stream=stream)
        garbage.bin_reading(session, bin_, fill_level=level, at=now - timedelta(minutes=rng.randint(5, 50)))
        bins.append(bin_)
    month_start = parse_period(previous_period(now + timedelta(days=32)))[0]
    span = max(1, int((now - month_start).total_seconds() // 60) - 1)
    for n in range(40):
        room = rng.choice(homes)
        at = month_start + timedelta(minutes=rng.randint(0, span))
        garbage.camera_check(
            session, rng.choice(bins), room_id=room.id, correct=rng.random() < 0.82, at=at, ref=f"demo:{code}:{n}"
        )
    # Facility devices: elevators and lights per building, a pump, a fire panel; one elevator in fault.
    lifts = []
    for building in buildings[:4]:
        lifts.append(add("elevator", f"LIFT-{building.id}", f"{building.name}电梯", building))
        add("light", f"LIGHT-{building.id}", f"{building.name}楼道照明", building)
    for device in lifts:
        facilities.report_state(session, device, status="online", state={"floor": rng.randint(1, 18)})
    add("pump", "PUMP-1", "二次供水泵房")
    add("fire_panel", "FIRE-1", "消防报警主机")
    if lifts:
        facilities.report_state(session, lifts[0], status="fault", state={"error": "E23"}, detail="电梯困人报警")
    session.flush()
