"""Payments: the sandbox gateway's happy path, forged and repeated notices, declines, amounts that
do not match, a bill paid twice, a failure half-way leaving nothing paid, receipts, discovery."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityos.community.property import billing, gateways, payments
from cityos.community.property.estates import previous_period
from cityos.community.property.gateways import SandboxGateway
from cityos.community.property.models import Bill, BillPayment
from cityos.core.db import utcnow
from cityos.core.errors import Conflict, Forbidden, Invalid, NotFound
from cityos.identity.models import Notification
from tests.community.property_fixtures import PropWorld, prop_world, tariff  # noqa: F401

LAST = previous_period(utcnow())


def _bill(session: Session, pw: PropWorld) -> Bill:
    tariff(session, pw)
    billing.run_billing(session, pw.manager, estate_id=pw.estate.id, period=LAST, kinds=["property_fee"])
    bill = session.scalar(select(Bill).where(Bill.room_id == pw.room.id))
    assert bill is not None
    return bill


def _notice(payment: BillPayment, status: str = "paid", amount: int | None = None) -> tuple[bytes, str]:
    return SandboxGateway.notice(
        payment.external_id, status=status, amount_fen=payment.amount_fen if amount is None else amount
    )


def test_sandbox_payment_pays_the_bill_once(session: Session, pw: PropWorld) -> None:
    bill = _bill(session, pw)
    payment = payments.start_payment(session, pw.resident, bill_id=bill.id)
    assert (payment.status, payment.amount_fen, payment.gateway) == ("pending", 22375, "sandbox")
    assert payment.pay_url == f"/pay/sandbox/{payment.external_id}"
    assert bill.status == "unpaid"  # nothing is paid before the gateway's notice
    payload, signature = _notice(payment)
    settled = payments.settle(session, gateway="sandbox", payload=payload, signature=signature)
    session.commit()
    assert settled.status == "paid"
    assert settled.receipt_no is not None
    session.refresh(bill)
    assert (bill.status, bill.payment_id) == ("paid", payment.id)
    again = payments.settle(session, gateway="sandbox", payload=payload, signature=signature)
    session.commit()
    assert (again.id, again.status, again.receipt_no) == (payment.id, "paid", settled.receipt_no)
    told = session.scalars(select(Notification.title).where(Notification.account_id == pw.resident_account_id)).all()
    assert told == [f"缴费成功：{LAST} 物业费"]  # once, though the notice came twice
    receipt = payments.receipt(session, pw.resident, payment_id=payment.id)
    assert (receipt.payee, receipt.address) == ("阳光物业", "阳光小区 1栋 1单元 101")
    assert payments.receipt(session, pw.manager, payment_id=payment.id).payment.id == payment.id
    with pytest.raises(NotFound):
        payments.receipt(session, pw.neighbour, payment_id=payment.id)
    with pytest.raises(NotFound):
        payments.receipt(session, pw.other_manager, payment_id=payment.id)
    with pytest.raises(Conflict):
        payments.start_payment(session, pw.resident, bill_id=bill.id)


def test_forged_or_broken_notices_are_refused(session: Session, pw: PropWorld) -> None:
    bill = _bill(session, pw)
    payment = payments.start_payment(session, pw.resident, bill_id=bill.id)
    payload, signature = _notice(payment)
    with pytest.raises(Forbidden):
        payments.settle(session, gateway="sandbox", payload=payload, signature="0" * 64)
    with pytest.raises(Forbidden):
        payments.settle(session, gateway="sandbox", payload=payload.replace(b'"paid"', b'"paid" '), signature=signature)
    with pytest.raises(Forbidden):
        payments.settle(session, gateway="sandbox", payload=payload, signature="")
    junk = b"not json"
    with pytest.raises(Invalid):
        payments.settle(session, gateway="sandbox", payload=junk, signature=SandboxGateway.sign(junk))
    odd = json.dumps({"payment_id": payment.external_id, "status": "refunded", "amount_fen": 1}).encode()
    with pytest.raises(Invalid):
        payments.settle(session, gateway="sandbox", payload=odd, signature=SandboxGateway.sign(odd))
    with pytest.raises(NotFound):
        payments.settle(session, gateway="nope", payload=payload, signature=signature)
    unknown, sig = SandboxGateway.notice("sbx_unknown", status="paid", amount_fen=1)
    with pytest.raises(NotFound):
        payments.settle(session, gateway="sandbox", payload=unknown, signature=sig)
    session.refresh(bill)
    session.refresh(payment)
    assert (bill.status, payment.status) == ("unpaid", "pending")


def test_declined_and_mismatched_notices_pay_nothing(session: Session, pw: PropWorld) -> None:
    bill = _bill(session, pw)
    first = payments.start_payment(session, pw.resident, bill_id=bill.id)
    payload, signature = _notice(first, "declined")
    assert payments.settle(session, gateway="sandbox", payload=payload, signature=signature).status == "declined"
    second = payments.start_payment(session, pw.resident, bill_id=bill.id)
    payload, signature = _notice(second, amount=1)
    assert payments.settle(session, gateway="sandbox", payload=payload, signature=signature).status == "failed"
    session.refresh(bill)
    assert bill.status == "unpaid"
    with pytest.raises(Conflict):
        payments.receipt(session, pw.resident, payment_id=second.id)


def test_a_bill_paid_twice_marks_the_second_for_refund(session: Session, pw: PropWorld) -> None:
    bill = _bill(session, pw)
    one = payments.start_payment(session, pw.resident, bill_id=bill.id)
    two = payments.start_payment(session, pw.resident, bill_id=bill.id)  # another tab, another phone
    payload, signature = _notice(two)
    payments.settle(session, gateway="sandbox", payload=payload, signature=signature)
    payload, signature = _notice(one)
    assert payments.settle(session, gateway="sandbox", payload=payload, signature=signature).status == "duplicate"
    session.refresh(bill)
    assert (bill.status, bill.payment_id) == ("paid", two.id)


def test_a_failure_half_way_leaves_nothing_paid(
    session: Session, pw: PropWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    bill = _bill(session, pw)
    payment = payments.start_payment(session, pw.resident, bill_id=bill.id)
    session.commit()

    def broken(*args: object, **kwargs: object) -> str:
        raise RuntimeError("outbox down")

    monkeypatch.setattr(payments.bus, "publish", broken)
    payload, signature = _notice(payment)
    with pytest.raises(RuntimeError):
        payments.settle(session, gateway="sandbox", payload=payload, signature=signature)
    session.rollback()  # what the request or job does on an error
    session.refresh(bill)
    session.refresh(payment)
    assert (bill.status, bill.paid_at, payment.status, payment.receipt_no) == ("unpaid", None, "pending", None)
    monkeypatch.undo()
    assert payments.settle(session, gateway="sandbox", payload=payload, signature=signature).status == "paid"


def test_who_may_pay_and_where_to_return(session: Session, pw: PropWorld) -> None:
    bill = _bill(session, pw)
    with pytest.raises(NotFound):
        payments.start_payment(session, pw.neighbour, bill_id=bill.id)
    with pytest.raises(Forbidden):
        payments.start_payment(session, pw.manager, bill_id=bill.id)
    for bad in ("https://evil.example/x", "//evil.example", "javascript:alert(1)"):
        with pytest.raises(Invalid) as exc:
            payments.start_payment(session, pw.resident, bill_id=bill.id, return_url=bad)
        assert exc.value.details[0].field == "return_url"
    assert session.scalar(select(func.count()).select_from(BillPayment)) == 0
    ok = payments.start_payment(session, pw.resident, bill_id=bill.id, return_url="/community")
    assert ok.return_url == "/community"


def test_gateways_are_discovered_by_entry_point(monkeypatch: pytest.MonkeyPatch) -> None:
    class FakeEntryPoint:
        name = "acme"

        def load(self) -> type:
            class Acme(SandboxGateway):
                name = "acme"

            return Acme

    monkeypatch.setattr(
        gateways, "entry_points", lambda group: [FakeEntryPoint()] if group == gateways.ENTRY_POINT_GROUP else []
    )
    assert gateways.available_gateways() == ["sandbox", "acme"]
    assert gateways.get_gateway("acme").name == "acme"
    with pytest.raises(gateways.UnknownGateway):
        gateways.get_gateway("nope")


def test_callback_endpoint(client: TestClient, session: Session, pw: PropWorld) -> None:
    bill = _bill(session, pw)
    payment = payments.start_payment(session, pw.resident, bill_id=bill.id)
    session.commit()
    payload, signature = _notice(payment)
    forged = client.post("/pay/callback/sandbox", content=payload, headers={"X-Signature": "f" * 64})
    assert forged.status_code == 403
    assert forged.json()["error"]["message"] == "The payment notice's signature does not verify."
    ok = client.post("/pay/callback/sandbox", content=payload, headers={"X-Signature": signature})
    assert ok.status_code == 200, ok.text
    assert ok.json() == {"payment_id": payment.id, "status": "paid"}
    twice = client.post("/pay/callback/sandbox", content=payload, headers={"X-Signature": signature})
    assert twice.json() == {"payment_id": payment.id, "status": "paid"}
    session.refresh(bill)
    assert bill.status == "paid"
