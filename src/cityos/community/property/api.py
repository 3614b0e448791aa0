"""JSON routes of community.property.

``router`` gathers three groups: the signed-in routes under /api/v1 (property managers and
residents), the device routes under /device-api/v1 (``device_api.py``: cameras, lockers, bins,
meters and facility equipment calling in with their device key), and the payment gateways'
notices under /pay/callback/{gateway} (checked by their signature, not by an account).
"""

from __future__ import annotations

from typing import Annotated

import anyio
from fastapi import APIRouter, Header, Query, Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from cityos.core.http import DbSession
from cityos.core.i18n import translate
from cityos.core.pagination import Page, PageQuery
from cityos.identity.deps import CurrentActor
from cityos.places.devices.models import Device
from cityos.places.models import Region

from . import billing, facilities, garbage, lockers, parking, payments
from .device_api import router as device_router
from .estates import effective_tariff, managed_estate, set_tariff, tariff_of
from .models import Bill, BillPayment, Parcel, ParkingVisit
from .schemas import (
    BillingRunIn,
    BillingRunRead,
    BillRead,
    BinRead,
    CollectionRead,
    DeviceIn,
    DeviceRead,
    GarbageRead,
    HouseholdPointsRead,
    InspectionIn,
    LeaseEndIn,
    LeaseIn,
    LeaseRead,
    MyGarbageRead,
    MyParcelRead,
    NoticeOut,
    ParcelRead,
    ParkingRead,
    PaymentIn,
    PaymentRead,
    RankRead,
    ReadingIn,
    ReadingRead,
    ReceiptRead,
    RegisteredRead,
    RepairRead,
    SkippedRead,
    SortingRead,
    SpaceRead,
    TariffIn,
    TariffRead,
    VehicleIn,
    VehicleRead,
    VisitRead,
)

api = APIRouter(prefix="/api/v1", tags=["community"])
notices = APIRouter(tags=["payments"])


# --- reads -------------------------------------------------------------------------------------------------------


def bill_read(bill: Bill) -> BillRead:
    return BillRead(
        id=bill.id,
        no=bill.no,
        title=bill.title,
        estate_id=bill.estate_id,
        building_id=bill.building_id,
        room_id=bill.room_id,
        kind=bill.kind,
        period=bill.period,
        amount_fen=bill.amount_fen,
        amount_yuan=billing.yuan(bill.amount_fen),
        detail=bill.detail or {},
        status=bill.status,
        issued_at=bill.issued_at,
        due_at=bill.due_at,
        paid_at=bill.paid_at,
        payment_id=bill.payment_id,
    )


def parcel_read(parcel: Parcel) -> ParcelRead:
    return ParcelRead(
        id=parcel.id,
        title=parcel.title,
        locker_id=parcel.locker_id,
        compartment=parcel.compartment,
        room_id=parcel.room_id,
        phone_masked=parcel.phone_masked,
        courier=parcel.courier,
        tracking_no=parcel.tracking_no,
        status=parcel.status,
        deposited_at=parcel.deposited_at,
        reminded_at=parcel.reminded_at,
        picked_up_at=parcel.picked_up_at,
        returned_at=parcel.returned_at,
    )


def rank_read(rank: garbage.BuildingRank) -> RankRead:
    return RankRead(
        rank=rank.rank,
        building_id=rank.building_id,
        name=rank.name,
        correct=rank.correct,
        wrong=rank.wrong,
        accuracy=round(rank.accuracy, 4),
    )


def _tariff_read(session: Session, estate: Region) -> TariffRead:
    stored = tariff_of(session, estate)
    tariff = stored or effective_tariff(session, estate)
    return TariffRead.model_validate(tariff, from_attributes=True).model_copy(update={"stored": stored is not None})


# --- tariff and billing -------------------------------------------------------------------------------------------


@api.get("/property/estates/{estate_id}/tariff", response_model=TariffRead)
def get_tariff(estate_id: int, session: DbSession, actor: CurrentActor) -> TariffRead:
    """The estate's charges (the shipped defaults until set)."""
    return _tariff_read(session, managed_estate(session, actor, estate_id))


@api.put("/property/estates/{estate_id}/tariff", response_model=TariffRead)
def put_tariff(estate_id: int, body: TariffIn, session: DbSession, actor: CurrentActor) -> TariffRead:
    """Set some or all of the estate's charges (fen per m² per month, per space per month, per m³,
    per kWh; visitors' free minutes, hourly fee and daily cap; days to pay; the payment gateway)."""
    tariff = set_tariff(session, actor, estate_id=estate_id, values=body.model_dump(exclude_unset=True))
    estate = session.get(Region, tariff.estate_id)
    assert estate is not None
    return _tariff_read(session, estate)


@api.post("/property/estates/{estate_id}/billing-runs", response_model=BillingRunRead, status_code=201)
def billing_run(estate_id: int, body: BillingRunIn, session: DbSession, actor: CurrentActor) -> BillingRunRead:
    """出账: one month's bills for every room; repeating it only adds the bills still missing."""
    run = billing.run_billing(session, actor, estate_id=estate_id, period=body.period, kinds=body.kinds)
    return BillingRunRead(
        estate_id=run.estate_id,
        period=run.period,
        created=len(run.created),
        existing=run.existing,
        total_fen=run.total_fen,
        skipped=[SkippedRead(room_id=s.room_id, kind=s.kind, reason=translate(s.reason)) for s in run.skipped],
    )


@api.get("/property/estates/{estate_id}/bills", response_model=Page[BillRead])
def list_bills(
    estate_id: int,
    session: DbSession,
    actor: CurrentActor,
    params: PageQuery,
    period: Annotated[str | None, Query(max_length=7)] = None,
    status: Annotated[str | None, Query(max_length=16)] = None,
    kind: Annotated[str | None, Query(max_length=16)] = None,
    building_id: int | None = None,
    overdue: bool = False,
) -> Page[BillRead]:
    rows, total = billing.list_bills(
        session,
        actor,
        params,
        estate_id=estate_id,
        period=period,
        status=status,
        kind=kind,
        building_id=building_id,
        overdue=overdue,
    )
    return Page(items=[bill_read(b) for b in rows], page=params.page, size=params.size, total=total)


@api.get("/property/estates/{estate_id}/collection", response_model=list[CollectionRead])
def collection(
    estate_id: int, session: DbSession, actor: CurrentActor, period: Annotated[str, Query(max_length=7)]
) -> list[CollectionRead]:
    """收缴: paid and unpaid per building for one month; the last line is the whole estate."""
    return [
        CollectionRead(
            building_id=c.building_id,
            name=c.name,
            bills=c.bills,
            paid=c.paid,
            unpaid=c.unpaid,
            billed_fen=c.billed_fen,
            paid_fen=c.paid_fen,
            rate=round(c.rate, 4),
        )
        for c in billing.collection(session, actor, estate_id=estate_id, period=period)
    ]


@api.get("/me/bills", response_model=list[BillRead])
def my_bills(session: DbSession, actor: CurrentActor, unpaid_only: bool = True) -> list[BillRead]:
    """Your household's bills."""
    return [bill_read(b) for b in billing.my_bills(session, actor, unpaid_only=unpaid_only)]


@api.post("/bills/{bill_id}/payments", response_model=PaymentRead, status_code=201)
def pay_bill(bill_id: int, body: PaymentIn, session: DbSession, actor: CurrentActor) -> BillPayment:
    """Start paying one of your household's bills: go to ``pay_url``; the bill is paid when the
    gateway's notice arrives."""
    return payments.start_payment(session, actor, bill_id=bill_id, return_url=body.return_url)


@api.get("/payments/{payment_id}/receipt", response_model=ReceiptRead)
def receipt(payment_id: int, session: DbSession, actor: CurrentActor) -> ReceiptRead:
    r = payments.receipt(session, actor, payment_id=payment_id)
    assert r.payment.receipt_no is not None
    assert r.payment.settled_at is not None
    return ReceiptRead(
        receipt_no=r.payment.receipt_no,
        payment_id=r.payment.id,
        bill_no=r.bill.no,
        bill_title=r.bill.title,
        amount_fen=r.payment.amount_fen,
        amount_yuan=billing.yuan(r.payment.amount_fen),
        paid_at=r.payment.settled_at,
        gateway=r.payment.gateway,
        gateway_ref=r.payment.gateway_ref,
        estate=r.estate_name,
        address=r.address,
        payee=r.payee,
    )


@notices.post("/pay/callback/{gateway}", response_model=NoticeOut)
async def gateway_notice(
    gateway: str,
    request: Request,
    session: DbSession,
    x_signature: Annotated[str | None, Header(max_length=256)] = None,
) -> NoticeOut:
    """A payment gateway's notice (回调): verified by its signature; the same notice twice settles once."""
    payload = await request.body()

    def run() -> NoticeOut:
        payment = payments.settle(session, gateway=gateway, payload=payload, signature=x_signature or "")
        return NoticeOut(payment_id=payment.id, status=payment.status)

    return await anyio.to_thread.run_sync(run)


# --- devices and meters -------------------------------------------------------------------------------------------


def device_read(device: Device) -> DeviceRead:
    return DeviceRead.model_validate(device, from_attributes=True)


@api.post("/property/estates/{estate_id}/devices", response_model=RegisteredRead, status_code=201)
def add_device(estate_id: int, body: DeviceIn, session: DbSession, actor: CurrentActor) -> RegisteredRead:
    """Install a space, camera, locker, bin, meter or facility device; its key is shown once."""
    made = facilities.add_device(
        session,
        actor,
        estate_id=estate_id,
        kind=body.kind,
        code=body.code,
        name=body.name,
        region_id=body.region_id,
        compartments=body.compartments,
        stream=body.stream,
        visitor=body.visitor,
    )
    return RegisteredRead(device=device_read(made.device), key=made.key)


@api.get("/property/estates/{estate_id}/devices", response_model=list[DeviceRead])
def list_devices(
    estate_id: int, session: DbSession, actor: CurrentActor, kind: Annotated[str | None, Query(max_length=32)] = None
) -> list[DeviceRead]:
    kinds = (kind,) if kind else facilities.KINDS
    return [device_read(d) for d in facilities.estate_devices(session, actor, estate_id=estate_id, kinds=kinds)]


@api.post("/property/meters/{meter_id}/readings", response_model=ReadingRead, status_code=201)
def read_meter(meter_id: int, body: ReadingIn, session: DbSession, actor: CurrentActor) -> ReadingRead:
    """抄表: a reading typed in by the property office."""
    reading = billing.read_meter(session, actor, device_id=meter_id, value=body.value, at=body.at)
    return ReadingRead(device_id=reading.device_id, at=reading.at, value=billing.from_milli(reading.value_milli))


@api.get("/property/estates/{estate_id}/repairs", response_model=list[RepairRead])
def repairs(estate_id: int, session: DbSession, actor: CurrentActor) -> list[RepairRead]:
    """The estate's open property-repair cases (residents' reports and devices' faults)."""
    return [
        RepairRead(
            id=c.id,
            no=c.no,
            title=c.title,
            category_code=c.category_code,
            channel=c.channel,
            status=c.status,
            created_at=c.created_at,
            link=f"/cases/{c.id}",
        )
        for c in facilities.open_repairs(session, actor, estate_id=estate_id)
    ]


# --- parking ------------------------------------------------------------------------------------------------------


def visit_read(visit: ParkingVisit) -> VisitRead:
    return VisitRead.model_validate(visit, from_attributes=True)


@api.post("/property/estates/{estate_id}/vehicles", response_model=VehicleRead, status_code=201)
def register_vehicle(estate_id: int, body: VehicleIn, session: DbSession, actor: CurrentActor) -> VehicleRead:
    vehicle = parking.register_vehicle(session, actor, estate_id=estate_id, room_id=body.room_id, plate=body.plate)
    return VehicleRead.model_validate(vehicle, from_attributes=True)


@api.get("/property/estates/{estate_id}/vehicles", response_model=list[VehicleRead])
def estate_vehicles(estate_id: int, session: DbSession, actor: CurrentActor) -> list[VehicleRead]:
    return [
        VehicleRead.model_validate(v, from_attributes=True)
        for v in parking.vehicles(session, actor, estate_id=estate_id)
    ]


@api.post("/me/vehicles", response_model=VehicleRead, status_code=201)
def register_my_vehicle(body: VehicleIn, session: DbSession, actor: CurrentActor) -> VehicleRead:
    """Register your household's car, so the gate knows it is not a visitor."""
    vehicle = parking.register_vehicle(session, actor, room_id=body.room_id, plate=body.plate)
    return VehicleRead.model_validate(vehicle, from_attributes=True)


@api.get("/me/vehicles", response_model=list[VehicleRead])
def my_vehicles(session: DbSession, actor: CurrentActor) -> list[VehicleRead]:
    return [VehicleRead.model_validate(v, from_attributes=True) for v in parking.my_vehicles(session, actor)]


@api.delete("/vehicles/{vehicle_id}", status_code=204)
def remove_vehicle(vehicle_id: int, session: DbSession, actor: CurrentActor) -> None:
    parking.remove_vehicle(session, actor, vehicle_id=vehicle_id)


@api.post("/property/estates/{estate_id}/parking-leases", response_model=LeaseRead, status_code=201)
def lease_space(estate_id: int, body: LeaseIn, session: DbSession, actor: CurrentActor) -> LeaseRead:
    lease = parking.lease_space(
        session, actor, estate_id=estate_id, space_id=body.space_id, room_id=body.room_id, since=body.since
    )
    return LeaseRead.model_validate(lease, from_attributes=True)


@api.post("/parking-leases/{lease_id}/end", response_model=LeaseRead)
def end_lease(lease_id: int, body: LeaseEndIn, session: DbSession, actor: CurrentActor) -> LeaseRead:
    lease = parking.end_lease(session, actor, lease_id=lease_id, until=body.until)
    return LeaseRead.model_validate(lease, from_attributes=True)


@api.get("/property/estates/{estate_id}/parking", response_model=ParkingRead)
def parking_overview(estate_id: int, session: DbSession, actor: CurrentActor) -> ParkingRead:
    view = parking.overview(session, actor, estate_id=estate_id)
    return ParkingRead(
        spaces=[
            SpaceRead(
                id=s.space.id,
                code=s.space.code,
                name=s.space.name,
                occupied=bool((s.space.state or {}).get("occupied")),
                plate=(s.space.state or {}).get("plate"),
                visitor=bool((s.space.state or {}).get("visitor")),
                lease_id=s.lease.id if s.lease else None,
                room_id=s.lease.room_id if s.lease else None,
            )
            for s in view.spaces
        ],
        occupied=view.occupied,
        inside=[visit_read(v) for v in view.inside],
        recent=[visit_read(v) for v in view.recent],
        fees_today_fen=view.fees_today_fen,
    )


# --- parcels ------------------------------------------------------------------------------------------------------


@api.get("/property/estates/{estate_id}/parcels", response_model=list[ParcelRead])
def estate_parcels(
    estate_id: int, session: DbSession, actor: CurrentActor, status: Annotated[str | None, Query(max_length=16)] = None
) -> list[ParcelRead]:
    return [parcel_read(p) for p in lockers.parcels(session, actor, estate_id=estate_id, status=status)]


def my_parcel_reads(session: Session, rows: list[Parcel]) -> list[MyParcelRead]:
    names = dict(
        session.execute(select(Device.id, Device.name).where(Device.id.in_({p.locker_id for p in rows}))).all()
    )
    return [
        MyParcelRead(
            **parcel_read(p).model_dump(),
            code=lockers.code_of(p) if p.status == "waiting" else None,
            locker_name=names.get(p.locker_id, "-"),
        )
        for p in rows
    ]


@api.get("/me/parcels", response_model=list[MyParcelRead])
def my_parcels(session: DbSession, actor: CurrentActor) -> list[MyParcelRead]:
    """Parcels waiting for you or your household, with their pickup codes."""
    return my_parcel_reads(session, lockers.my_parcels(session, actor))


# --- garbage ------------------------------------------------------------------------------------------------------


@api.post("/property/estates/{estate_id}/sorting-checks", response_model=SortingRead, status_code=201)
def inspect(estate_id: int, body: InspectionIn, session: DbSession, actor: CurrentActor) -> SortingRead:
    """An inspector's (督导员) check of a household's sorting."""
    event = garbage.inspect(
        session, actor, estate_id=estate_id, room_id=body.room_id, correct=body.correct, bin_id=body.bin_id, at=body.at
    )
    return SortingRead.model_validate(event, from_attributes=True)


def bin_read(device: Device) -> BinRead:
    state = device.state or {}
    level = state.get("fill_level")
    return BinRead(
        id=device.id,
        code=device.code,
        name=device.name,
        status=device.status,
        fill_level=float(level) if isinstance(level, int | float) else None,
        stream=state.get("stream"),
    )


@api.get("/property/estates/{estate_id}/garbage", response_model=GarbageRead)
def garbage_overview(
    estate_id: int, session: DbSession, actor: CurrentActor, month: Annotated[str | None, Query(max_length=7)] = None
) -> GarbageRead:
    """Bins with their fill levels and the month's ranking of buildings."""
    view = garbage.overview(session, actor, estate_id=estate_id, month=month)
    return GarbageRead(
        month=view.month, bins=[bin_read(b) for b in view.bins], ranking=[rank_read(r) for r in view.ranking]
    )


@api.get("/me/garbage", response_model=MyGarbageRead)
def my_garbage(session: DbSession, actor: CurrentActor) -> MyGarbageRead:
    """Your household's sorting points and your estate's ranking of buildings this month."""
    view = garbage.my_garbage(session, actor)
    return MyGarbageRead(
        month=view.month,
        households=[
            HouseholdPointsRead(room_id=h.room_id, address=h.address, points=h.points, correct=h.correct, wrong=h.wrong)
            for h in view.households
        ],
        ranking=[rank_read(r) for r in view.ranking],
    )


router = APIRouter()
router.include_router(api)
router.include_router(device_router)
router.include_router(notices)
