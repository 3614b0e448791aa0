"""The merchant console (/merchant): incoming orders with accept, decline (with a reason),
start and done; the shop's offers with new, edit and on/off. An operator sees the offers and
orders of its area and publishes for a shop it chooses, but takes no shop's steps."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from cityos.community.commerce import orders, presentation, service
from cityos.community.commerce.models import OPEN_STATUSES, Offer, Order
from cityos.core.actor import Actor
from cityos.core.errors import DomainError
from cityos.core.http import DbSession
from cityos.core.i18n import N_, translate
from cityos.people.models import Organisation, OrganisationKind
from cityos.web.forms import refused
from cityos.web.shell import PageActor
from cityos.web.templating import render

router = APIRouter(include_in_schema=False)

STEP_TITLES = {
    "accept": N_("Accept the order"),
    "reject": N_("Decline the order"),
    "start": N_("Start the service"),
    "done": N_("Mark as done"),
}
NOTICES = {
    "created": N_("The offer is published."),
    "saved": N_("The offer is saved."),
    "accept": N_("Order accepted. The resident has been told."),
    "reject": N_("Order declined. The resident has been told why."),
    "start": N_("Service started. The resident has been told."),
    "done": N_("Order done. The resident is asked to rate it."),
}
FORM_FIELDS = (
    "organisation_id",
    "category",
    "title",
    "description",
    "price",
    "unit",
    "radius_m",
    "lon",
    "lat",
    "opening_hours",
)


async def _posted(request: Request) -> dict[str, str]:
    form = await request.form()
    return {k: str(v) for k, v in form.items() if isinstance(v, str)}


def _price(raw: dict[str, str]) -> Any:
    """Fen from a yuan amount (80, 80.5); None for 面议; the text itself when it is not a number
    (the service names the field)."""
    if raw.get("negotiable") == "1":
        return None
    text = raw.get("price", "").strip().replace("¥", "").replace(",", "")
    if not text:
        return None
    try:
        amount = Decimal(text)
    except InvalidOperation:
        return text
    fen = amount * 100
    return int(fen) if fen == fen.to_integral_value() else text


def _number(text: str, kind: type[int] | type[float]) -> Any:
    text = text.strip()
    if not text:
        return None
    try:
        return kind(text)
    except ValueError:
        return text


def _fields(raw: dict[str, str]) -> dict[str, Any]:
    radius = _number(raw.get("radius_m", ""), int)
    return {
        "category": raw.get("category", ""),
        "title": raw.get("title", ""),
        "description": raw.get("description", ""),
        "price_fen": _price(raw),
        "unit": raw.get("unit", ""),
        "radius_m": service.MAX_RADIUS_M if radius is None else radius,
        "lon": _number(raw.get("lon", ""), float),
        "lat": _number(raw.get("lat", ""), float),
        "opening_hours": raw.get("opening_hours", ""),
    }


def _shops_to_choose(session: Session, actor: Actor) -> list[Organisation]:
    """For an operator: the merchants of its area (the first 200 by name)."""
    if actor.organisation_id is not None or not service.is_operator(actor):
        return []
    return list(
        session.scalars(
            select(Organisation)
            .where(Organisation.kind == OrganisationKind.MERCHANT, actor.scope_clause(Organisation.region_path))
            .order_by(Organisation.name)
            .limit(200)
        )
    )


def _shop_name(session: Session, actor: Actor) -> str:
    if actor.organisation_id is None:
        return ""
    org = session.get(Organisation, actor.organisation_id)
    return org.name if org is not None else ""


@router.get("/merchant", response_class=HTMLResponse)
def console(
    request: Request,
    session: DbSession,
    actor: PageActor,
    notice: Annotated[str, Query(max_length=16)] = "",
) -> HTMLResponse:
    actor.require("commerce:sell")
    open_orders, open_total = orders.list_orders(session, actor, side="shop", statuses=OPEN_STATUSES, limit=100)
    recent, _ = orders.list_orders(session, actor, side="shop", statuses=("done", "rejected", "cancelled"), limit=20)
    offers = service.shop_offers(session, actor)
    return render(
        request,
        "community/commerce/merchant.html",
        {
            "shop_name": _shop_name(session, actor),
            "no_shop": actor.organisation_id is None and not service.is_operator(actor),
            "open_orders": [_incoming(actor, o) for o in open_orders],
            "open_total": open_total,
            "recent": [_incoming(actor, o) for o in recent],
            "offers": [_offer_row(o) for o in offers],
            "step_titles": STEP_TITLES,
            "notice": NOTICES.get(notice),
            "figures": service.merchant_ratings(session, {actor.organisation_id}) if actor.organisation_id else {},
        },
    )


def _incoming(actor: Actor, order: Order) -> dict[str, Any]:
    return {
        **presentation.order_row(order),
        "actions": orders.available_actions(actor, order),
        "phone": orders.masked_phone(order),
    }


def _offer_row(offer: Offer) -> dict[str, Any]:
    return {
        "id": offer.id,
        "title": offer.title,
        "category": translate(service.category_title(offer.category)),
        "price": presentation.price_label(offer.price_fen, offer.unit),
        "radius": presentation.distance(offer.radius_m),
        "hours": offer.opening_hours,
        "active": offer.active,
    }


def _form_page(
    request: Request,
    session: Session,
    actor: Actor,
    *,
    offer: Offer | None,
    values: dict[str, str],
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "community/commerce/offer_form.html",
        {
            "offer": offer,
            "values": values,
            "errors": errors or {},
            "categories": [(k, translate(v)) for k, v in service.CATEGORIES.items()],
            "shops": _shops_to_choose(session, actor) if offer is None else [],
            "action": f"/merchant/offers/{offer.id}" if offer else "/merchant/offers",
        },
        status_code=status_code,
    )


def _values_of(offer: Offer) -> dict[str, str]:
    return {
        "category": offer.category,
        "title": offer.title,
        "description": offer.description,
        "price": presentation.yuan(offer.price_fen).replace(",", "") if offer.price_fen is not None else "",
        "negotiable": "1" if offer.price_fen is None else "",
        "unit": offer.unit,
        "radius_m": str(offer.radius_m),
        "lon": f"{offer.lon:.6f}",
        "lat": f"{offer.lat:.6f}",
        "opening_hours": offer.opening_hours,
    }


@router.get("/merchant/offers/new", response_class=HTMLResponse)
def new_offer(request: Request, session: DbSession, actor: PageActor) -> HTMLResponse:
    actor.require("commerce:sell")
    return _form_page(request, session, actor, offer=None, values={"radius_m": str(service.MAX_RADIUS_M), "unit": "次"})


@router.post("/merchant/offers", response_class=HTMLResponse)
async def create_offer(request: Request, session: DbSession, actor: PageActor) -> Response:
    raw = await _posted(request)
    org = raw.get("organisation_id", "")
    try:
        service.create_offer(session, actor, organisation_id=int(org) if org.isdigit() else None, **_fields(raw))
    except DomainError as exc:
        errors = refused(request, session, actor, exc)
        if "price_fen" in errors:
            errors["price"] = errors.pop("price_fen")
        return _form_page(request, session, actor, offer=None, values=raw, errors=errors, status_code=exc.status_code)
    return RedirectResponse("/merchant?notice=created", status_code=303)


@router.get("/merchant/offers/{offer_id}", response_class=HTMLResponse)
def edit_offer(offer_id: int, request: Request, session: DbSession, actor: PageActor) -> HTMLResponse:
    offer = service.get_own_offer(session, actor, offer_id)
    return _form_page(request, session, actor, offer=offer, values=_values_of(offer))


@router.post("/merchant/offers/{offer_id}", response_class=HTMLResponse)
async def save_offer(offer_id: int, request: Request, session: DbSession, actor: PageActor) -> Response:
    raw = await _posted(request)
    fields = _fields(raw)
    if fields["lon"] is None and fields["lat"] is None:
        fields.pop("lon")
        fields.pop("lat")
    try:
        service.update_offer(session, actor, offer_id=offer_id, **fields)
    except DomainError as exc:
        errors = refused(request, session, actor, exc)
        if "price_fen" in errors:
            errors["price"] = errors.pop("price_fen")
        offer = service.get_own_offer(session, actor, offer_id)
        return _form_page(request, session, actor, offer=offer, values=raw, errors=errors, status_code=exc.status_code)
    return RedirectResponse("/merchant?notice=saved", status_code=303)


@router.post("/merchant/offers/{offer_id}/active")
async def switch_offer(offer_id: int, request: Request, session: DbSession, actor: PageActor) -> Response:
    raw = await _posted(request)
    service.update_offer(session, actor, offer_id=offer_id, active=raw.get("active") == "1")
    return RedirectResponse("/merchant?notice=saved", status_code=303)


def _order_page(
    request: Request,
    session: Session,
    actor: Actor,
    order: Order,
    *,
    errors: dict[str, str] | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    rating = orders.rating_of(session, order)
    return render(
        request,
        "community/commerce/merchant_order.html",
        {
            "order": presentation.order_row(order),
            "note": order.note,
            "reason": order.reason,
            "phone": orders.phone_for(session, actor, order),
            "phone_full": service.sells_for(actor, order.organisation_id)
            and order.status in ("accepted", "in_service"),
            "timeline": presentation.timeline_rows(session, order),
            "actions": orders.available_actions(actor, order),
            "step_titles": STEP_TITLES,
            "rating": rating,
            "errors": errors or {},
            "notice": NOTICES.get(notice or ""),
        },
        status_code=status_code,
    )


@router.get("/merchant/orders/{order_id}", response_class=HTMLResponse)
def merchant_order(
    order_id: int,
    request: Request,
    session: DbSession,
    actor: PageActor,
    notice: Annotated[str, Query(max_length=16)] = "",
) -> HTMLResponse:
    actor.require("commerce:sell")
    order = orders.get_order(session, actor, order_id)
    return _order_page(request, session, actor, order, notice=notice)


@router.post("/merchant/orders/{order_id}/steps/{step}", response_class=HTMLResponse)
async def take_step(order_id: int, step: str, request: Request, session: DbSession, actor: PageActor) -> Response:
    raw = await _posted(request)
    try:
        orders.act(session, actor, order_id=order_id, action=step, note=raw.get("note", ""))
    except DomainError as exc:
        errors = refused(request, session, actor, exc)
        order = orders.get_order(session, actor, order_id)
        return _order_page(request, session, actor, order, errors=errors, status_code=exc.status_code)
    back = "/merchant" if raw.get("next") == "console" else f"/merchant/orders/{order_id}"
    return RedirectResponse(f"{back}?notice={step}", status_code=303)
