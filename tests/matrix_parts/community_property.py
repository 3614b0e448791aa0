"""Permission-matrix entries of community.property (see tests/matrix_parts/base.py).

Inside: 阳光小区 (grid 1) with its tariff, last month's bills, a paid bill of the matrix owner of
room 101, a meter, a let space and a free one, a plate and a parcel; outside: the same in 月亮小区
(grid 2). The estate routes are the property office's (``property:manage``); a household's own
bills, plates, parcels and points belong to it alone, so nobody else may pay or see them.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.factories import World, make_actor
from tests.matrix_parts.base import Case

MANAGE = "property:manage"
OFFICE = ("property_manager", "admin")


def _office(perms: frozenset[str], role: str) -> bool:
    return role in OFFICE


def _nobody(perms: frozenset[str], role: str) -> bool:
    return False


def _last_month() -> str:
    from cityos.community.property.estates import previous_period
    from cityos.core.db import utcnow

    return previous_period(utcnow())


E = "/api/v1/property/estates/{estate_id}"

CASES: tuple[Case, ...] = (
    Case("GET", E + "/tariff", MANAGE),
    Case("PUT", E + "/tariff", MANAGE, body=lambda i: {"due_days": 10}),
    Case("POST", E + "/billing-runs", MANAGE, body=lambda i: {"period": _last_month(), "kinds": ["property_fee"]}),
    Case("GET", E + "/bills", MANAGE, list_key="items", kind="property_bill"),
    Case("GET", E + "/collection", MANAGE, query=lambda i: {"period": _last_month()}),
    Case("GET", "/api/v1/me/bills", "bill:pay", list_key="", kind="property_bill", outside=False),
    Case("POST", "/api/v1/bills/{bill_id}/payments", _nobody, body=lambda i: {}),
    Case("GET", "/api/v1/payments/{payment_id}/receipt", _office),
    Case("POST", E + "/devices", MANAGE, body=lambda i: {"kind": "light", "code": "MX-LIGHT-9", "name": "矩阵灯"}),
    Case("GET", E + "/devices", MANAGE, list_key="", kind="property_device"),
    Case("POST", "/api/v1/property/meters/{meter_id}/readings", MANAGE, body=lambda i: {"value": 12.5}),
    Case("GET", E + "/repairs", MANAGE),
    Case(
        "POST",
        E + "/vehicles",
        MANAGE,
        body=lambda i: {"room_id": i["room2"], "plate": "川A66666"},
    ),
    Case("GET", E + "/vehicles", MANAGE, list_key="", kind="property_vehicle"),
    # The matrix's own resident has no room: told so (422).
    Case(
        "POST",
        "/api/v1/me/vehicles",
        "pass:request",
        body=lambda i: {"room_id": i["room"], "plate": "川A55555"},
        outside=False,
        allowed_status=(422,),
    ),
    Case("GET", "/api/v1/me/vehicles", "pass:request", list_key="", kind="property_vehicle", outside=False),
    Case("DELETE", "/api/v1/vehicles/{vehicle_id}", _office),
    Case(
        "POST",
        E + "/parking-leases",
        MANAGE,
        body=lambda i: {"space_id": i["property_space_free"], "room_id": i["room2"]},
    ),
    Case("POST", "/api/v1/parking-leases/{lease_id}/end", _office, body=lambda i: {}),
    Case("GET", E + "/parking", MANAGE),
    Case("GET", E + "/parcels", MANAGE, list_key="", kind="property_parcel"),
    Case("GET", "/api/v1/me/parcels", "self:read", list_key="", kind="property_parcel", outside=False),
    Case("POST", E + "/sorting-checks", MANAGE, body=lambda i: {"room_id": i["room"], "correct": True}),
    Case("GET", E + "/garbage", MANAGE),
    Case("GET", "/api/v1/me/garbage", "self:read", outside=False),
)
PATH_PARAMS: dict[str, str] = {
    "estate_id": "estate",  # as community.access maps it
    "bill_id": "property_bill",
    "payment_id": "property_payment",
    "meter_id": "property_meter",
    "vehicle_id": "property_vehicle",
    "lease_id": "property_lease",
}


def records(session: Session, world: World, inside: dict[str, Any], outside: dict[str, Any]) -> None:
    """Each side's estate with a tariff, last month's bills, the side's owner's bill paid through
    the sandbox, a meter, a let and a free space, a plate and a parcel in a locker."""
    from cityos.community.property import billing, facilities, lockers, parking, payments
    from cityos.community.property.estates import set_tariff
    from cityos.community.property.gateways import SandboxGateway
    from cityos.community.property.models import Bill
    from cityos.core.actor import SYSTEM
    from cityos.places.models import Region

    period = _last_month()
    for side, room_id in ((inside, world.room.id), (outside, world.other_room.id)):
        room = session.get(Region, room_id)
        assert room is not None
        ids = [int(p) for p in room.path.strip("/").split("/") if p]
        estate = session.scalar(select(Region).where(Region.id.in_(ids), Region.level == "estate"))
        assert estate is not None
        n = 1 if side is inside else 2
        set_tariff(session, SYSTEM, estate_id=estate.id, values={"property_fee_fen_per_m2": 200})
        billing.run_billing(session, SYSTEM, estate_id=estate.id, period=period, kinds=["property_fee"])
        bill = session.scalar(select(Bill).where(Bill.room_id == room.id, Bill.period == period))
        assert bill is not None
        owner = make_actor(session, roles=["resident"], scope=world.city, person_id=side["person"])
        payment = payments.start_payment(session, owner, bill_id=bill.id)
        payload, signature = SandboxGateway.notice(payment.external_id, status="paid", amount_fen=payment.amount_fen)
        payments.settle(session, gateway="sandbox", payload=payload, signature=signature)
        meter = facilities.add_device(
            session, SYSTEM, estate_id=estate.id, kind="meter_water", code=f"MX-W-{n}", name="水表", region_id=room.id
        ).device
        let = facilities.add_device(
            session, SYSTEM, estate_id=estate.id, kind="parking_spot", code=f"MX-P-{n}", name="车位"
        )
        free = facilities.add_device(
            session, SYSTEM, estate_id=estate.id, kind="parking_spot", code=f"MX-PF-{n}", name="空车位"
        )
        lease = parking.lease_space(session, SYSTEM, estate_id=estate.id, space_id=let.device.id, room_id=room.id)
        vehicle = parking.register_vehicle(session, SYSTEM, estate_id=estate.id, room_id=room.id, plate=f"川A1234{n}")
        locker = facilities.add_device(
            session, SYSTEM, estate_id=estate.id, kind="locker", code=f"MX-L-{n}", name="快递柜", compartments=4
        ).device
        parcel = lockers.deposit(session, locker, compartment=1, room_id=room.id)
        side.setdefault("estate", estate.id)
        side.update(
            property_bill=bill.id,
            property_payment=payment.id,
            property_meter=meter.id,
            property_device=meter.id,
            property_space_free=free.device.id,
            property_lease=lease.id,
            property_vehicle=vehicle.id,
            property_parcel=parcel.id,
        )
