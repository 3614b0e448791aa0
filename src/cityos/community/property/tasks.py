"""Bus handlers and periodic jobs of community.property: residents hear of parcels, overdue bills
and payments after the commit that caused them; every minute the server chases overdue bills
and parcels."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from cityos.core.bus import Bus
from cityos.core.i18n import translate
from cityos.core.settings import get_settings
from cityos.identity.models import Account
from cityos.identity.notify import notify
from cityos.identity.sms import get_sender
from cityos.places.devices.models import Device

from . import billing, lockers
from .estates import household_accounts, local
from .events import BillOverdue, ParcelDeposited, ParcelOverdue, PaymentSettled
from .models import Bill, BillPayment, Parcel, PaymentStatus


def _parcel_recipients(session: Session, parcel: Parcel) -> list[int]:
    accounts = set(household_accounts(session, [parcel.room_id])) if parcel.room_id else set()
    if parcel.recipient_person_id is not None:
        accounts |= set(
            session.scalars(
                select(Account.id).where(Account.person_id == parcel.recipient_person_id, Account.active.is_(True))
            )
        )
    return sorted(accounts)


def _tell_parcel(session: Session, parcel: Parcel, title: str, body: str) -> None:
    accounts = _parcel_recipients(session, parcel)
    for account_id in accounts:
        notify(session, account_id, title=title, body=body, link="/community/parcels", sms=True)
    phone = lockers.phone_of(parcel)
    if not accounts and phone:
        # A recipient without an account hears by SMS only.
        get_sender(get_settings().sms_sender).send(session, phone, f"{title} {body}".strip())


def _where(session: Session, parcel: Parcel) -> str:
    locker = session.get(Device, parcel.locker_id)
    return translate("{locker}, compartment {n}", locker=locker.name if locker else "-", n=parcel.compartment)


def on_parcel_deposited(session: Session, evt: ParcelDeposited) -> None:
    parcel = session.get(Parcel, evt.parcel_id)
    if parcel is None or parcel.status != "waiting":
        return
    title = translate("Parcel waiting: pickup code {code}", code=lockers.code_of(parcel))
    body = translate("{where}. Please collect it within 72 hours.", where=_where(session, parcel))
    _tell_parcel(session, parcel, title, body)


def on_parcel_overdue(session: Session, evt: ParcelOverdue) -> None:
    parcel = session.get(Parcel, evt.parcel_id)
    if parcel is None:
        return
    if evt.stage == "remind" and parcel.status == "waiting":
        title = translate("Your parcel has waited 24 hours: pickup code {code}", code=lockers.code_of(parcel))
        body = translate("{where}. It goes back to the sender after 72 hours.", where=_where(session, parcel))
        _tell_parcel(session, parcel, title, body)
    elif evt.stage == "returned" and parcel.status == "returned":
        title = translate("Your parcel went back to the sender")
        body = translate("It waited 72 hours in {where}.", where=_where(session, parcel))
        _tell_parcel(session, parcel, title, body)


def on_bill_overdue(session: Session, evt: BillOverdue) -> None:
    bill = session.get(Bill, evt.bill_id)
    if bill is None or bill.status != "unpaid":
        return
    for account_id in household_accounts(session, [bill.room_id]):
        notify(
            session,
            account_id,
            title=translate("Bill overdue: {title}", title=bill.title),
            body=translate(
                "{amount} yuan, due {due}", amount=billing.yuan(bill.amount_fen), due=local(bill.due_at)[:10]
            ),
            link="/community/bills",
        )


def on_payment_settled(session: Session, evt: PaymentSettled) -> None:
    payment = session.get(BillPayment, evt.payment_id)
    if payment is None or payment.payer_account_id is None:
        return
    bill = session.get(Bill, payment.bill_id)
    if bill is None:
        return
    if payment.status == PaymentStatus.PAID:
        title = translate("Payment received: {title}", title=bill.title)
        body = translate("{amount} yuan, receipt {no}", amount=billing.yuan(payment.amount_fen), no=payment.receipt_no)
        notify(
            session, payment.payer_account_id, title=title, body=body, link=f"/community/bills/receipts/{payment.id}"
        )
    elif payment.status == PaymentStatus.DUPLICATE:
        title = translate("This bill was already paid: your payment will be refunded")
        notify(session, payment.payer_account_id, title=title, body=bill.title, link="/community/bills")


def register(bus: Bus) -> None:
    """Subscribes this sub-package's bus handlers (called once per process)."""
    bus.subscribe(ParcelDeposited, "property.parcel_deposited")(on_parcel_deposited)
    bus.subscribe(ParcelOverdue, "property.parcel_overdue")(on_parcel_overdue)
    bus.subscribe(BillOverdue, "property.bill_overdue")(on_bill_overdue)
    bus.subscribe(PaymentSettled, "property.payment_settled")(on_payment_settled)


def periodic(session: Session) -> None:
    """Runs every minute in the server (reminders, expiries); must be cheap when there is nothing to do."""
    billing.remind_overdue(session)
    lockers.chase(session)
