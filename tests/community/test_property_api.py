"""JSON API: status codes, field errors in the caller's language, nothing half-written, scope."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityos.community.property import lockers
from cityos.community.property.estates import previous_period
from cityos.community.property.gateways import SandboxGateway
from cityos.community.property.models import Bill, BillPayment, Tariff, Vehicle
from cityos.core.db import utcnow
from tests.community.property_fixtures import PropWorld, device, prop_world  # noqa: F401
from tests.factories import bearer

LAST = previous_period(utcnow())
ZH = {"Accept-Language": "zh-CN"}


def _errors(response: object) -> dict[str, str]:
    body = response.json()  # type: ignore[attr-defined]
    return {d["field"]: d["message"] for d in body["error"]["details"]}


def test_tariff_and_billing_api(client: TestClient, session: Session, pw: PropWorld) -> None:
    h = bearer(pw.manager_account_id)
    e = f"/api/v1/property/estates/{pw.estate.id}"
    shown = client.get(f"{e}/tariff", headers=h)
    assert (shown.status_code, shown.json()["stored"], shown.json()["property_fee_fen_per_m2"]) == (200, False, 250)
    bad = client.put(f"{e}/tariff", json={"due_days": 200, "payment_gateway": "x"}, headers={**h, **ZH})
    assert bad.status_code == 422
    assert _errors(bad) == {"due_days": "请填写0至90之间的整数。", "payment_gateway": "不是已安装的支付渠道。"}
    unknown = client.put(f"{e}/tariff", json={"colour": "red"}, headers=h)
    assert unknown.status_code == 422
    assert session.scalar(select(func.count()).select_from(Tariff)) == 0
    ok = client.put(f"{e}/tariff", json={"property_fee_fen_per_m2": 300, "due_days": 10}, headers=h)
    assert (ok.status_code, ok.json()["stored"], ok.json()["organisation_id"]) == (200, True, pw.company.id)
    run = client.post(f"{e}/billing-runs", json={"period": LAST, "kinds": ["property_fee", "water"]}, headers=h)
    assert run.status_code == 201, run.text
    assert (run.json()["created"], run.json()["total_fen"]) == (2, 26850 + 27000)
    again = client.post(f"{e}/billing-runs", json={"period": LAST}, headers=h)
    assert (again.json()["created"], again.json()["existing"]) == (0, 2)
    wrong = client.post(f"{e}/billing-runs", json={"period": "11/2026", "kinds": []}, headers=h)
    assert wrong.status_code == 422
    assert set(_errors(wrong)) == {"period", "kinds"}
    page = client.get(f"{e}/bills", params={"period": LAST, "size": 1}, headers=h)
    assert (page.json()["total"], len(page.json()["items"])) == (2, 1)
    assert page.json()["items"][0]["amount_yuan"] in ("268.50", "270.00")
    coll = client.get(f"{e}/collection", params={"period": LAST}, headers=h)
    assert coll.json()[-1] == {
        "building_id": None,
        "name": "阳光小区",
        "bills": 2,
        "paid": 0,
        "unpaid": 2,
        "billed_fen": 53850,
        "paid_fen": 0,
        "rate": 0.0,
    }
    other = bearer(pw.other_manager.account_id or 0)
    for path in ("/tariff", "/bills", f"/collection?period={LAST}", "/parking", "/garbage", "/repairs", "/devices"):
        assert client.get(e + path, headers=other).status_code == 404, path
    assert client.post(f"{e}/billing-runs", json={"period": LAST}, headers=other).status_code == 404
    resident = bearer(pw.resident_account_id)
    assert client.get(f"{e}/tariff", headers=resident).status_code == 403


def test_paying_through_the_api(client: TestClient, session: Session, pw: PropWorld) -> None:
    h = bearer(pw.manager_account_id)
    e = f"/api/v1/property/estates/{pw.estate.id}"
    client.put(f"{e}/tariff", json={}, headers=h)
    client.post(f"{e}/billing-runs", json={"period": LAST, "kinds": ["property_fee"]}, headers=h)
    me = bearer(pw.resident_account_id)
    bills = client.get("/api/v1/me/bills", headers=me).json()
    assert [b["room_id"] for b in bills] == [pw.room.id]
    bill_id = bills[0]["id"]
    neighbour_bill = session.scalar(select(Bill.id).where(Bill.room_id == pw.room2.id))
    assert client.post(f"/api/v1/bills/{neighbour_bill}/payments", json={}, headers=me).status_code == 404
    bad = client.post(f"/api/v1/bills/{bill_id}/payments", json={"return_url": "https://evil.example"}, headers=me)
    assert bad.status_code == 422
    assert "return_url" in _errors(bad)
    assert session.scalar(select(func.count()).select_from(BillPayment)) == 0
    started = client.post(f"/api/v1/bills/{bill_id}/payments", json={}, headers=me)
    assert started.status_code == 201
    assert started.json()["status"] == "pending"
    payment = session.get(BillPayment, started.json()["id"])
    assert payment is not None
    receipt_path = f"/api/v1/payments/{payment.id}/receipt"
    assert client.get(receipt_path, headers=me).status_code == 409  # not paid yet
    payload, signature = SandboxGateway.notice(payment.external_id, status="paid", amount_fen=payment.amount_fen)
    assert client.post("/pay/callback/sandbox", content=payload, headers={"X-Signature": signature}).status_code == 200
    receipt = client.get(receipt_path, headers=me)
    assert receipt.status_code == 200
    assert (receipt.json()["amount_yuan"], receipt.json()["payee"]) == ("223.75", "阳光物业")
    assert client.get(receipt_path, headers=h).status_code == 200
    assert client.get(receipt_path, headers=bearer(pw.neighbour_account_id)).status_code == 404
    assert client.get("/api/v1/me/bills", headers=me).json() == []
    assert len(client.get("/api/v1/me/bills", params={"unpaid_only": "false"}, headers=me).json()) == 1
    paid = client.post(f"/api/v1/bills/{bill_id}/payments", json={}, headers=me)
    assert paid.status_code == 409


def test_devices_meters_plates_and_spaces(client: TestClient, session: Session, pw: PropWorld) -> None:
    h = bearer(pw.manager_account_id)
    e = f"/api/v1/property/estates/{pw.estate.id}"
    made = client.post(
        f"{e}/devices",
        json={"kind": "meter_water", "code": "W-101", "name": "101水表", "region_id": pw.room.id},
        headers=h,
    )
    assert made.status_code == 201, made.text
    assert made.json()["key"].startswith("dk_")
    meter_id = made.json()["device"]["id"]
    bad = client.post(f"{e}/devices", json={"kind": "bin", "code": "!", "name": "桶"}, headers={**h, **ZH})
    assert set(_errors(bad)) == {"stream", "code"}
    assert [d["code"] for d in client.get(f"{e}/devices", headers=h).json()] == ["W-101"]
    read = client.post(f"/api/v1/property/meters/{meter_id}/readings", json={"value": "12.345"}, headers=h)
    assert (read.status_code, read.json()["value"]) == (201, "12.345")
    wrong = client.post(f"/api/v1/property/meters/{meter_id}/readings", json={"value": -3}, headers=h)
    assert wrong.status_code == 422
    assert client.post(
        f"/api/v1/property/meters/{meter_id}/readings",
        json={"value": 1},
        headers=bearer(pw.other_manager.account_id or 0),
    ).status_code in (403, 404)
    me = bearer(pw.resident_account_id)
    mine = client.post("/api/v1/me/vehicles", json={"room_id": pw.room.id, "plate": "川AD12345"}, headers=me)
    assert mine.status_code == 201
    assert mine.json()["plate"] == "川AD12345"
    refused = client.post("/api/v1/me/vehicles", json={"room_id": pw.room2.id, "plate": "x"}, headers={**me, **ZH})
    assert _errors(refused) == {
        "room_id": "请选择您自己的房屋。",
        "plate": "不是有效的车牌号（如 川A12345，新能源车如 川AD12345）。",
    }
    assert [v["plate"] for v in client.get("/api/v1/me/vehicles", headers=me).json()] == ["川AD12345"]
    assert (
        client.delete(f"/api/v1/vehicles/{mine.json()['id']}", headers=bearer(pw.neighbour_account_id)).status_code
        == 404
    )
    assert client.delete(f"/api/v1/vehicles/{mine.json()['id']}", headers=me).status_code == 204
    assert session.scalar(select(func.count()).select_from(Vehicle)) == 0
    space = client.post(
        f"{e}/devices", json={"kind": "parking_spot", "code": "P-1", "name": "1号车位"}, headers=h
    ).json()
    assert space["key"] is None
    lease = client.post(
        f"{e}/parking-leases", json={"space_id": space["device"]["id"], "room_id": pw.room.id}, headers=h
    )
    assert lease.status_code == 201
    taken = client.post(
        f"{e}/parking-leases", json={"space_id": space["device"]["id"], "room_id": pw.room2.id}, headers=h
    )
    assert taken.status_code == 409
    view = client.get(f"{e}/parking", headers=h).json()
    assert view["spaces"][0]["room_id"] == pw.room.id
    assert client.post(f"/api/v1/parking-leases/{lease.json()['id']}/end", json={}, headers=h).status_code == 200


def test_parcels_garbage_and_repairs(client: TestClient, session: Session, pw: PropWorld) -> None:
    locker, _ = device(session, pw, "locker", "L-1", name="东门快递柜", compartments=8)
    parcel = lockers.deposit(session, locker, compartment=2, recipient_phone="13900000101")
    session.commit()
    me = bearer(pw.resident_account_id)
    mine = client.get("/api/v1/me/parcels", headers=me).json()
    assert [(p["id"], p["code"], p["locker_name"]) for p in mine] == [
        (parcel.id, lockers.code_of(parcel), "东门快递柜")
    ]
    h = bearer(pw.manager_account_id)
    e = f"/api/v1/property/estates/{pw.estate.id}"
    office = client.get(f"{e}/parcels", headers=h).json()
    assert office[0]["phone_masked"] == "139****0101"
    assert "code" not in office[0]
    check = client.post(f"{e}/sorting-checks", json={"room_id": pw.room.id, "correct": True}, headers=h)
    assert check.status_code == 201
    bad = client.post(f"{e}/sorting-checks", json={"room_id": pw.w.other_room.id, "correct": "maybe"}, headers=h)
    assert bad.status_code == 422
    assert client.get(f"{e}/garbage", headers=h).json()["ranking"][0]["name"] == "1栋"
    points = client.get("/api/v1/me/garbage", headers=me).json()
    assert points["households"][0]["points"] == 1
    assert client.get(f"{e}/repairs", headers=h).json() == []
