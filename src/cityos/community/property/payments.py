"""Paying bills (缴费) through the estate's payment gateway. A bill becomes paid only from the
gateway's verified notice; the same notice twice settles once; a forged one is refused; a notice
that does not match (another amount) pays nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from cityos.core import bus
from cityos.core.actor import Actor
from cityos.core.db import utcnow
from cityos.core.errors import Conflict, FieldError, Forbidden, Invalid, NotFound
from cityos.core.i18n import N_
from cityos.people.models import Organisation
from cityos.people.residences import address
from cityos.places.models import Region

from .billing import get_bill
from .estates import effective_tariff, managed_estate, my_rooms
from .events import PaymentSettled
from .gateways import BadNotice, UnknownGateway, get_gateway
from .models import Bill, BillPayment, BillStatus, PaymentStatus

MSG_PAID = N_("This bill is already paid.")
MSG_RETURN_URL = N_("Give a path on this site, like /community/bills.")
MSG_FORGED = N_("The payment notice's signature does not verify.")
MSG_NOT_NOTICE = N_("This is not a payment notice.")
MSG_NO_RECEIPT = N_("There is no receipt: this payment is not complete.")
MSG_MISMATCH = N_("The amount paid does not match the bill.")
DEFAULT_RETURN = "/community/bills"


def _safe_return(url: str | None) -> str:
    if not url:
        return DEFAULT_RETURN
    if not url.startswith("/") or url.startswith("//") or "\\" in url or len(url) > 500:
        raise Invalid(details=[FieldError("return_url", MSG_RETURN_URL)])
    return url


def start_payment(session: Session, actor: Actor, *, bill_id: int, return_url: str | None = None) -> BillPayment:
    """Ask the estate's gateway to take a payment for one of the household's bills; the payer
    goes to ``pay_url``. Nothing is paid until the gateway's notice arrives."""
    actor.require("bill:pay")
    bill = session.get(Bill, bill_id)
    if bill is None or bill.room_id not in my_rooms(session, actor):
        raise NotFound()
    target = _safe_return(return_url)
    if bill.status == BillStatus.PAID:
        raise Conflict(MSG_PAID)
    estate = session.get(Region, bill.estate_id)
    assert estate is not None
    gateway = get_gateway(effective_tariff(session, estate).payment_gateway)
    created = gateway.create_payment(bill, bill.amount_fen, target)
    payment = BillPayment(
        bill_id=bill.id,
        gateway=gateway.name,
        external_id=created.id,
        amount_fen=bill.amount_fen,
        status=PaymentStatus.PENDING,
        payer_account_id=actor.account_id,
        pay_url=created.pay_url,
        return_url=target,
    )
    session.add(payment)
    session.flush()
    return payment


def settle(
    session: Session, *, gateway: str, payload: bytes, signature: str, now: datetime | None = None
) -> BillPayment:
    """A gateway's notice (callback). Verified first; then, in this one transaction, the payment
    and its bill move together or not at all. A payment already settled is left as it is."""
    try:
        gw = get_gateway(gateway)
    except UnknownGateway:
        raise NotFound() from None
    try:
        result = gw.verify_callback(payload, signature)
    except BadNotice as exc:
        if str(exc) == "signature":
            raise Forbidden(MSG_FORGED) from None
        raise Invalid(MSG_NOT_NOTICE) from None
    payment = session.scalar(
        select(BillPayment)
        .where(BillPayment.gateway == gw.name, BillPayment.external_id == result.payment_id)
        .with_for_update()
    )
    if payment is None:
        raise NotFound()
    if payment.status != PaymentStatus.PENDING:
        return payment  # a repeated notice: already done
    now = now or utcnow()
    payment.settled_at = now
    payment.gateway_ref = (result.reference or "")[:64] or None
    if result.status == "declined":
        payment.status = PaymentStatus.DECLINED
    elif result.amount_fen != payment.amount_fen:
        payment.status = PaymentStatus.FAILED
        payment.note = f"amount {result.amount_fen} != {payment.amount_fen}"
    else:
        # Only an unpaid bill is paid, in one statement: two notices racing cannot both pay it.
        paid = session.execute(
            update(Bill)
            .where(Bill.id == payment.bill_id, Bill.status == BillStatus.UNPAID)
            .values(status=BillStatus.PAID, paid_at=now, payment_id=payment.id)
            .execution_options(synchronize_session=False)
        )
        bill = session.get(Bill, payment.bill_id)
        if bill is not None:
            session.refresh(bill)
        if paid.rowcount == 1:  # type: ignore[attr-defined]
            payment.status = PaymentStatus.PAID
            payment.receipt_no = f"R{now:%Y%m%d}{payment.id:08d}"
        else:
            payment.status = PaymentStatus.DUPLICATE  # paid twice: the office refunds it
    session.flush()
    bus.publish(session, PaymentSettled(payment_id=payment.id, status=payment.status), key=f"payment:{payment.id}")
    return payment


def payment_by_external(session: Session, *, gateway: str, external_id: str) -> BillPayment:
    payment = session.scalar(
        select(BillPayment).where(BillPayment.gateway == gateway, BillPayment.external_id == external_id)
    )
    if payment is None:
        raise NotFound()
    return payment


@dataclass(frozen=True)
class Receipt:
    """收据 of one payment."""

    payment: BillPayment
    bill: Bill
    estate_name: str
    address: str
    payee: str


def receipt(session: Session, actor: Actor, *, payment_id: int) -> Receipt:
    """The receipt of a completed payment, for its household and its estate's manager."""
    payment = session.get(BillPayment, payment_id)
    if payment is None:
        raise NotFound()
    bill = get_bill(session, actor, payment.bill_id)
    if payment.status != PaymentStatus.PAID:
        raise Conflict(MSG_NO_RECEIPT)
    estate = session.get(Region, bill.estate_id)
    room = session.get(Region, bill.room_id)
    assert estate is not None
    assert room is not None
    org = session.get(Organisation, bill.organisation_id) if bill.organisation_id else None
    return Receipt(
        payment, bill, estate.name, address(session, room, within=estate.path), org.name if org else estate.name
    )


def payments_of(session: Session, actor: Actor, *, estate_id: int, limit: int = 50) -> list[tuple[BillPayment, Bill]]:
    """The estate's latest settled payments (for the console)."""
    estate = managed_estate(session, actor, estate_id)
    rows = session.execute(
        select(BillPayment, Bill)
        .join(Bill, Bill.id == BillPayment.bill_id)
        .where(Bill.estate_id == estate.id, BillPayment.status != PaymentStatus.PENDING)
        .order_by(BillPayment.settled_at.desc(), BillPayment.id.desc())
        .limit(limit)
    ).all()
    return [(p, b) for p, b in rows]


def my_payments(session: Session, actor: Actor, *, limit: int = 50) -> list[tuple[BillPayment, Bill]]:
    """The household's completed payments, newest first (for receipts)."""
    actor.require("bill:pay")
    rooms = my_rooms(session, actor)
    if not rooms:
        return []
    rows = session.execute(
        select(BillPayment, Bill)
        .join(Bill, Bill.id == BillPayment.bill_id)
        .where(Bill.room_id.in_(rooms), BillPayment.status == PaymentStatus.PAID)
        .order_by(BillPayment.settled_at.desc(), BillPayment.id.desc())
        .limit(limit)
    ).all()
    return [(p, b) for p, b in rows]
