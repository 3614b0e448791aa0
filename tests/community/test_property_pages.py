"""Pages: the property console's tabs (zh_CN and en, forms with field errors, keys once), the
resident's bills paid through the sandbox page, receipts, parcels and points, scope."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from cityos.community.property import billing, garbage, lockers
from cityos.community.property.estates import previous_period
from cityos.community.property.models import Bill, BillPayment
from cityos.core.db import utcnow
from cityos.core.settings import get_settings
from tests.community.property_fixtures import PropWorld, device, prop_world, tariff  # noqa: F401
from tests.factories import make_account, session_cookie

ZH = {"Accept-Language": "zh-CN"}
EN = {"Accept-Language": "en"}
LAST = previous_period(utcnow())


def _as(client: TestClient, session: Session, account_id: int) -> TestClient:
    client.cookies.set(get_settings().session_cookie_name, session_cookie(session, account_id))
    return client


def _billed(session: Session, pw: PropWorld) -> None:
    tariff(session, pw)
    billing.run_billing(session, pw.manager, estate_id=pw.estate.id, period=LAST, kinds=["property_fee"])
    session.commit()


def test_console_tabs_in_both_languages(client: TestClient, session: Session, pw: PropWorld) -> None:
    _billed(session, pw)
    device(session, pw, "parking_spot", "P-001")
    device(session, pw, "locker", "L-1", name="东门快递柜", compartments=8)
    device(session, pw, "bin", "BIN-1", name="厨余桶", stream="kitchen")
    session.commit()
    c = _as(client, session, pw.manager_account_id)
    page = c.get(f"/property?estate={pw.estate.id}", headers=ZH)
    assert page.status_code == 200, page.text
    assert "物业管理" in page.text
    assert f"{LAST} 收缴情况" in page.text
    assert 'data-testid="collection-total"' in page.text
    assert "448.75" in page.text  # 223.75 + 225.00 yuan billed
    english = c.get(f"/property?estate={pw.estate.id}", headers=EN)
    assert f"Collection in {LAST}" in english.text
    for tab, zh, en in (
        ("parking", "登记车牌", "Registered plates"),
        ("lockers", "格口在用", "compartments in use"),
        ("garbage", "记录督导检查", "Record an inspection"),
        ("devices", "安装设备", "Install a device"),
        ("repairs", "未完成报修", "Open repairs"),
    ):
        shown = c.get(f"/property/{tab}?estate={pw.estate.id}", headers=ZH)
        assert shown.status_code == 200, (tab, shown.text[:300])
        assert zh in shown.text
        assert en in c.get(f"/property/{tab}?estate={pw.estate.id}", headers=EN).text
    assert c.get("/property", headers=ZH).status_code == 200  # the first estate in scope


def test_console_forms_show_field_errors(client: TestClient, session: Session, pw: PropWorld) -> None:
    c = _as(client, session, pw.manager_account_id)
    bad = c.post(
        "/property/tariff",
        data={"estate": pw.estate.id, "property_fee_fen_per_m2": "2.555", "due_days": "abc"},
        headers=ZH,
    )
    assert bad.status_code == 422
    assert 'data-testid="error-property_fee_fen_per_m2"' in bad.text
    assert "请以元为单位填写金额，最多 2 位小数。" in bad.text
    assert 'data-testid="error-due_days"' in bad.text
    saved = c.post(
        "/property/tariff", data={"estate": pw.estate.id, "property_fee_fen_per_m2": "2.60"}, follow_redirects=False
    )
    assert saved.status_code == 303
    run = c.post("/property/billing-runs", data={"estate": pw.estate.id, "period": "2026-13"}, headers=EN)
    assert run.status_code == 422
    assert "Give a month like 2026-11." in run.text
    done = c.post(
        "/property/billing-runs", data={"estate": pw.estate.id, "period": LAST, "kinds": "property_fee"}, headers=EN
    )
    assert done.status_code == 200
    assert 'data-testid="run-done"' in done.text
    billed = session.scalar(select(Bill).where(Bill.room_id == pw.room.id))
    assert billed is not None
    assert billed.amount_fen == 23270  # 89.5 m² × 2.60 元
    plate = c.post(
        "/property/vehicles", data={"estate": pw.estate.id, "room_id": pw.room.id, "plate": "ABC"}, headers=ZH
    )
    assert plate.status_code == 422
    assert 'data-testid="error-plate"' in plate.text
    made = c.post(
        "/property/devices",
        data={
            "estate": pw.estate.id,
            "kind": "elevator",
            "code": "LIFT-9",
            "name": "9号电梯",
            "region_id": pw.estate.id,
        },
        headers=ZH,
    )
    assert made.status_code == 200
    assert 'data-testid="device-key"' in made.text
    assert "dk_" in made.text
    listed = c.get(f"/property/devices?estate={pw.estate.id}", headers=ZH)
    assert "LIFT-9" in listed.text
    assert "dk_" not in listed.text  # the key is shown once
    lease = c.post(
        "/property/leases", data={"estate": pw.estate.id, "space_id": "999999", "room_id": pw.room.id}, headers=ZH
    )
    assert lease.status_code == 422
    assert 'data-testid="error-space_id"' in lease.text
    locker = c.post(
        "/property/devices",
        data={"estate": pw.estate.id, "kind": "locker", "code": "L-9", "name": "柜", "compartments": "0"},
        headers=ZH,
    )
    assert locker.status_code == 422
    assert "请填写格口数，1 到 200。" in locker.text
    check = c.post("/property/sorting-checks", data={"estate": pw.estate.id, "room_id": pw.room.id}, headers=ZH)
    assert check.status_code == 422
    assert 'data-testid="error-correct"' in check.text


def test_console_scope(client: TestClient, session: Session, pw: PropWorld) -> None:
    c = _as(client, session, pw.manager_account_id)
    assert c.get(f"/property?estate={pw.estate2.id}", headers=ZH).status_code == 404
    assert c.post("/property/tariff", data={"estate": pw.estate2.id, "due_days": "3"}).status_code == 404
    resident = _as(client, session, pw.resident_account_id)
    assert resident.get("/property", headers=ZH).status_code == 403
    observer = make_account(session, roles=["street_observer"], scope=pw.w.street)
    session.commit()
    seen = _as(client, session, observer.id).get("/property", follow_redirects=False)
    assert (seen.status_code, seen.headers["location"]) == (303, "/property/access")


def test_resident_pays_through_the_sandbox(client: TestClient, session: Session, pw: PropWorld) -> None:
    _billed(session, pw)
    bill = session.scalar(select(Bill).where(Bill.room_id == pw.room.id))
    assert bill is not None
    c = _as(client, session, pw.resident_account_id)
    page = c.get("/community/bills", headers=ZH)
    assert page.status_code == 200
    assert f'data-testid="pay-{bill.id}"' in page.text
    assert "缴纳 223.75 元" in page.text
    started = c.post(f"/community/bills/{bill.id}/pay", follow_redirects=False)
    assert started.status_code == 303
    pay_url = started.headers["location"]
    assert pay_url.startswith("/pay/sandbox/sbx_")
    sandbox = c.get(pay_url, headers=ZH)
    assert "沙箱：不会真实扣款" in sandbox.text
    assert "223.75 元" in sandbox.text
    # Another resident cannot confirm it.
    neighbour = TestClient(client.app, headers=EN)
    _as(neighbour, session, pw.neighbour_account_id)
    assert neighbour.get(pay_url).status_code == 404
    assert neighbour.post(pay_url, data={"decision": "confirm"}).status_code == 404
    done = c.post(pay_url, data={"decision": "confirm"}, follow_redirects=False)
    assert done.status_code == 303
    assert done.headers["location"].startswith("/community/bills?paid=")
    back = c.get(done.headers["location"], headers=ZH)
    assert 'data-testid="paid-notice"' in back.text
    assert 'data-testid="all-paid"' in back.text
    session.refresh(bill)
    assert bill.status == "paid"
    payment = session.scalar(select(BillPayment).where(BillPayment.bill_id == bill.id))
    assert payment is not None
    receipt = c.get(f"/community/bills/receipts/{payment.id}", headers=ZH)
    assert receipt.status_code == 200
    assert payment.receipt_no is not None
    assert payment.receipt_no in receipt.text
    assert "阳光物业" in receipt.text
    manager = TestClient(client.app, headers=ZH)
    _as(manager, session, pw.manager_account_id)
    assert manager.get(f"/community/bills/receipts/{payment.id}").status_code == 200
    console = manager.get(f"/property?estate={pw.estate.id}")
    assert f'data-testid="receipt-{payment.id}"' in console.text
    again = c.get(pay_url, headers=ZH)
    assert 'data-testid="sandbox-settled"' in again.text


def test_resident_declines_in_the_sandbox(client: TestClient, session: Session, pw: PropWorld) -> None:
    _billed(session, pw)
    bill = session.scalar(select(Bill).where(Bill.room_id == pw.room.id))
    assert bill is not None
    c = _as(client, session, pw.resident_account_id)
    pay_url = c.post(f"/community/bills/{bill.id}/pay", follow_redirects=False).headers["location"]
    declined = c.post(pay_url, data={"decision": "decline"}, follow_redirects=False)
    assert "declined=" in declined.headers["location"]
    assert 'data-testid="declined-notice"' in c.get(declined.headers["location"], headers=EN).text
    session.refresh(bill)
    assert bill.status == "unpaid"


def test_resident_parcels_and_points(client: TestClient, session: Session, pw: PropWorld) -> None:
    locker, _ = device(session, pw, "locker", "L-1", name="东门快递柜", compartments=8)
    parcel = lockers.deposit(session, locker, compartment=2, room_id=pw.room.id)
    garbage.inspect(session, pw.manager, estate_id=pw.estate.id, room_id=pw.room.id, correct=True)
    session.commit()
    c = _as(client, session, pw.resident_account_id)
    page = c.get("/community/parcels", headers=ZH)
    assert page.status_code == 200
    assert f'data-testid="code-{parcel.id}"' in page.text
    assert lockers.code_of(parcel) in page.text
    assert "2 号格口" in page.text
    other = TestClient(client.app, headers=ZH)
    _as(other, session, pw.neighbour_account_id)
    assert lockers.code_of(parcel) not in other.get("/community/parcels").text
    points = c.get("/community/garbage", headers=ZH)
    assert f'data-testid="points-{pw.room.id}"' in points.text
    assert "您所在楼栋" in points.text
    assert "Garbage sorting points" in c.get("/community/garbage", headers=EN).text
