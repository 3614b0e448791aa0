"""HTML pages of community.property; templates in web/templates/community/property/.

Residents: ``/community/bills`` (bills, pay, receipts), ``/community/parcels`` (pickup codes),
``/community/garbage`` (points and the ranking of buildings). The sandbox gateway's pay page
``/pay/sandbox/{id}``. The property office's console ``/property`` lives in ``console.py``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from cityos.core.errors import Conflict, NotFound
from cityos.core.http import DbSession
from cityos.people.residences import addresses
from cityos.places.devices.models import Device
from cityos.places.models import Region
from cityos.web.shell import PageActor
from cityos.web.templating import render

from . import billing, garbage, lockers, payments
from .console import router as console_router
from .estates import local
from .gateways import SANDBOX, SandboxGateway
from .models import PAYMENT_STATUS_TITLES, Bill, BillPayment, PaymentStatus

router = APIRouter(include_in_schema=False)

PAYMENT_STATUS = PAYMENT_STATUS_TITLES


def _room_names(session: DbSession, bills: list[Bill]) -> dict[int, str]:
    rooms = list(session.scalars(select(Region).where(Region.id.in_({b.room_id for b in bills})))) if bills else []
    return addresses(session, rooms) if rooms else {}


@router.get("/community/bills", response_class=HTMLResponse)
def my_bills(request: Request, session: DbSession, actor: PageActor) -> HTMLResponse:
    """The household's unpaid bills with a large pay button each, and receipts of payments."""
    unpaid = billing.my_bills(session, actor)
    paid = payments.my_payments(session, actor, limit=24)
    return render(
        request,
        "community/property/bills.html",
        {
            "unpaid": unpaid,
            "total_fen": sum(b.amount_fen for b in unpaid),
            "paid": paid,
            "room_names": _room_names(session, unpaid + [b for _, b in paid]),
            "yuan": billing.yuan,
            "local": local,
        },
    )


@router.post("/community/bills/{bill_id}/pay")
def pay(bill_id: int, session: DbSession, actor: PageActor) -> Response:
    """Start a payment and send the payer to the gateway's page."""
    try:
        payment = payments.start_payment(session, actor, bill_id=bill_id, return_url="/community/bills")
    except Conflict:
        return RedirectResponse("/community/bills?already=1", status_code=303)
    return RedirectResponse(payment.pay_url, status_code=303)


@router.get("/community/bills/receipts/{payment_id}", response_class=HTMLResponse)
def receipt(payment_id: int, request: Request, session: DbSession, actor: PageActor) -> HTMLResponse:
    """收据: printable, for the household and the estate's property office."""
    found = payments.receipt(session, actor, payment_id=payment_id)
    return render(request, "community/property/receipt.html", {"r": found, "yuan": billing.yuan, "local": local})


# --- the sandbox gateway's page ---------------------------------------------------------------------------------


def _sandbox_payment(session: DbSession, actor_account: int | None, external_id: str) -> tuple[BillPayment, Bill]:
    payment = payments.payment_by_external(session, gateway=SANDBOX, external_id=external_id)
    if payment.payer_account_id is None or payment.payer_account_id != actor_account:
        raise NotFound()
    bill = session.get(Bill, payment.bill_id)
    assert bill is not None
    return payment, bill


@router.get("/pay/sandbox/{external_id}", response_class=HTMLResponse)
def sandbox_page(external_id: str, request: Request, session: DbSession, actor: PageActor) -> HTMLResponse:
    """The sandbox's pay page: the payer confirms or declines; no money moves."""
    payment, bill = _sandbox_payment(session, actor.account_id, external_id)
    estate = session.get(Region, bill.estate_id)
    return render(
        request,
        "community/property/sandbox.html",
        {
            "payment": payment,
            "bill": bill,
            "estate": estate,
            "yuan": billing.yuan,
            "payment_status": PAYMENT_STATUS,
        },
    )


@router.post("/pay/sandbox/{external_id}")
def sandbox_decide(
    external_id: str,
    session: DbSession,
    actor: PageActor,
    decision: Annotated[str, Form(max_length=16)] = "",
) -> Response:
    """The payer's choice becomes the sandbox's signed notice, settled like any gateway's."""
    payment, _ = _sandbox_payment(session, actor.account_id, external_id)
    back = payment.return_url or payments.DEFAULT_RETURN
    if decision not in ("confirm", "decline"):
        return RedirectResponse(payment.pay_url, status_code=303)
    status = "paid" if decision == "confirm" else "declined"
    payload, signature = SandboxGateway.notice(payment.external_id, status=status, amount_fen=payment.amount_fen)
    settled = payments.settle(session, gateway=SANDBOX, payload=payload, signature=signature)
    mark = "paid" if settled.status == PaymentStatus.PAID else "declined"
    joiner = "&" if "?" in back else "?"
    return RedirectResponse(f"{back}{joiner}{mark}={settled.id}", status_code=303)


# --- parcels and garbage ------------------------------------------------------------------------------------------


@router.get("/community/parcels", response_class=HTMLResponse)
def my_parcels(request: Request, session: DbSession, actor: PageActor) -> HTMLResponse:
    """Parcels waiting, each with its pickup code in large type."""
    waiting = lockers.my_parcels(session, actor)
    recent = lockers.my_recent_parcels(session, actor)
    names = dict(
        session.execute(
            select(Device.id, Device.name).where(Device.id.in_({p.locker_id for p in waiting + recent}))
        ).all()
    )
    return render(
        request,
        "community/property/parcels.html",
        {
            "waiting": [(p, lockers.code_of(p)) for p in waiting],
            "recent": recent,
            "locker_names": names,
            "local": local,
            "return_after_hours": int(lockers.RETURN_AFTER.total_seconds() // 3600),
        },
    )


@router.get("/community/garbage", response_class=HTMLResponse)
def my_garbage(request: Request, session: DbSession, actor: PageActor) -> HTMLResponse:
    """The household's sorting points and this month's ranking of its estate's buildings."""
    return render(request, "community/property/garbage.html", {"view": garbage.my_garbage(session, actor)})


router.include_router(console_router)
