"""Pages of neighbourhood commerce for residents: /shop (categories, the nearby list with
distances and a map of the offers), /shop/offers/{id} (the offer and its order form, address
and phone from the resident's records), /shop/orders and /shop/orders/{id} (the timeline,
cancel, rate). The merchant console (/merchant) is in ``console``; templates in
web/templates/community/commerce/."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from cityos.cases.ratings import RATING_LEVELS
from cityos.community.commerce import console, hours, orders, presentation, service
from cityos.community.commerce.models import OPEN_STATUSES, Offer, Order, OrderStatus
from cityos.core.actor import Actor
from cityos.core.errors import DomainError, Forbidden
from cityos.core.http import DbSession
from cityos.core.i18n import N_, translate
from cityos.web.forms import refused
from cityos.web.shell import PageActor
from cityos.web.templating import render

router = APIRouter(include_in_schema=False)
router.include_router(console.router)

PER_PAGE = 30
NOTICES = {
    "placed": N_("Your order is placed. The shop has been told and will answer soon."),
    "cancelled": N_("Your order is cancelled."),
    "rated": N_("Thank you for rating the service."),
}
ORDER_VIEWS = {
    "open": (N_("Orders in progress"), OPEN_STATUSES),
    "done": (N_("Completed orders"), (OrderStatus.DONE,)),
    "closed": (N_("Cancelled or declined"), (OrderStatus.CANCELLED, OrderStatus.REJECTED)),
    "all": (N_("All orders"), ()),
}


def _may_look(actor: Actor) -> None:
    if not (actor.can("commerce:order") or actor.can("commerce:sell")):
        raise Forbidden(params={"permission": "commerce:order"})


async def posted(request: Request) -> dict[str, str]:
    form = await request.form()
    return {k: str(v) for k, v in form.items() if isinstance(v, str)}


def card(n: service.Nearby) -> dict[str, Any]:
    """What a row of the nearby list shows."""
    o = n.offer
    return {
        "id": o.id,
        "title": o.title,
        "shop": n.shop_name,
        "category": translate(service.category_title(o.category)),
        "price": presentation.price_label(o.price_fen, o.unit),
        "distance": presentation.distance(n.distance_m),
        "rating": n.rating,
        "open_now": presentation.open_now(o),
        "hours": o.opening_hours,
        "lon": o.lon,
        "lat": o.lat,
    }


def _float(value: str | None) -> float | None:
    try:
        return float(value) if value not in (None, "") else None
    except ValueError:
        return None


@router.get("/shop", response_class=HTMLResponse)
def shop(
    request: Request,
    session: DbSession,
    actor: PageActor,
    category: Annotated[str, Query(max_length=32)] = "",
    lon: Annotated[str, Query(max_length=32)] = "",
    lat: Annotated[str, Query(max_length=32)] = "",
) -> HTMLResponse:
    """Services near home (or near the phone's location when the resident shares it)."""
    _may_look(actor)
    chosen = category if category in service.CATEGORIES else ""
    here_lon, here_lat = _float(lon), _float(lat)
    shared = here_lon is not None and here_lat is not None and -180 <= here_lon <= 180 and -90 <= here_lat <= 90
    point = (here_lon, here_lat) if shared else orders.home_point(session, actor)
    found: list[service.Nearby] = []
    if point is not None:
        found = service.nearby(session, actor, lon=point[0], lat=point[1], category=chosen or None)  # type: ignore[arg-type]
    cards = [card(n) for n in found]
    return render(
        request,
        "community/commerce/shop.html",
        {
            "categories": [(k, translate(v)) for k, v in service.CATEGORIES.items()],
            "category": chosen,
            "cards": cards,
            "point": point,
            "shared": shared,
            "map_data": json.dumps(
                {
                    "here": list(point) if point else None,
                    "offers": [{"id": c["id"], "title": c["title"], "lon": c["lon"], "lat": c["lat"]} for c in cards],
                },
                ensure_ascii=False,
            ),
            "query_suffix": (f"&lon={point[0]:.6f}&lat={point[1]:.6f}" if shared and point else ""),
        },
    )


def _offer_page(
    request: Request,
    session: Session,
    actor: Actor,
    offer: Offer,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    names = service.shop_names(session, {offer.organisation_id})
    rating = service.merchant_ratings(session, {offer.organisation_id}).get(offer.organisation_id)
    homes = orders.homes(session, actor)
    can_order = actor.can("commerce:order") and actor.person_id is not None and offer.active
    point = orders.home_point(session, actor)
    away = service.distance_m(point[0], point[1], offer.lon, offer.lat) if point else None
    filled = {"address": homes[0].address if homes else "", "room_id": str(homes[0].room_id) if homes else ""}
    return render(
        request,
        "community/commerce/offer.html",
        {
            "offer": offer,
            "shop_name": names.get(offer.organisation_id, ""),
            "rating": rating,
            "category": translate(service.category_title(offer.category)),
            "price": presentation.price_label(offer.price_fen, offer.unit),
            "open_now": presentation.open_now(offer),
            "radius": presentation.distance(offer.radius_m),
            "distance": presentation.distance(away) if away is not None else None,
            "reaches": away is None or away <= offer.radius_m,
            "homes": homes,
            "can_order": can_order,
            "phone_on_record": orders.registered_phone_masked(session, actor) if can_order else None,
            "values": {**filled, **(values or {})},
            "errors": errors or {},
        },
        status_code=status_code,
    )


@router.get("/shop/offers/{offer_id}", response_class=HTMLResponse)
def offer_page(offer_id: int, request: Request, session: DbSession, actor: PageActor) -> HTMLResponse:
    return _offer_page(request, session, actor, service.get_offer(session, actor, offer_id))


def local_moment(text: str) -> Any:
    """``2026-12-02T15:30`` (a phone's date-time field, the city's time) as a UTC-aware moment;
    the text itself when it is not one (the service names the field); None when empty."""
    text = text.strip()
    if not text:
        return None
    try:
        return datetime.fromisoformat(text).replace(tzinfo=hours.zone())
    except ValueError:
        return text


@router.post("/shop/offers/{offer_id}/order", response_class=HTMLResponse)
async def order_submit(offer_id: int, request: Request, session: DbSession, actor: PageActor) -> Response:
    raw = await posted(request)
    room = raw.get("room_id", "")
    try:
        order = orders.place_order(
            session,
            actor,
            offer_id=offer_id,
            room_id=int(room) if room.isdigit() else None,
            address=raw.get("address", ""),
            phone=raw.get("phone", ""),
            preferred_at=local_moment(raw.get("preferred_at", "")),
            note=raw.get("note", ""),
        )
    except DomainError as exc:
        errors = refused(request, session, actor, exc)
        offer = service.get_offer(session, actor, offer_id)
        return _offer_page(request, session, actor, offer, values=raw, errors=errors, status_code=exc.status_code)
    return RedirectResponse(f"/shop/orders/{order.id}?notice=placed", status_code=303)


@router.get("/shop/orders", response_class=HTMLResponse)
def my_orders(
    request: Request,
    session: DbSession,
    actor: PageActor,
    view: Annotated[str, Query(max_length=8)] = "open",
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> HTMLResponse:
    _may_look(actor)
    view = view if view in ORDER_VIEWS else "open"
    rows, total = orders.list_orders(
        session, actor, statuses=ORDER_VIEWS[view][1], limit=PER_PAGE, offset=(page - 1) * PER_PAGE
    )
    return render(
        request,
        "community/commerce/orders.html",
        {
            "orders": [presentation.order_row(o) for o in rows],
            "view": view,
            "views": [(k, v[0]) for k, v in ORDER_VIEWS.items()],
            "page": page,
            "pages": max(1, -(-total // PER_PAGE)),
            "total": total,
        },
    )


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
        "community/commerce/order.html",
        {
            "order": presentation.order_row(order),
            "note": order.note,
            "reason": order.reason,
            "phone": orders.masked_phone(order),
            "shop_name": service.shop_names(session, {order.organisation_id}).get(order.organisation_id, ""),
            "timeline": presentation.timeline_rows(session, order),
            "can_cancel": "cancel" in orders.available_actions(actor, order),
            "can_rate": orders.can_rate(session, actor, order),
            "rating": rating,
            "levels": sorted(RATING_LEVELS.items(), reverse=True),
            "errors": errors or {},
            "notice": NOTICES.get(notice or ""),
        },
        status_code=status_code,
    )


@router.get("/shop/orders/{order_id}", response_class=HTMLResponse)
def order_page(
    order_id: int,
    request: Request,
    session: DbSession,
    actor: PageActor,
    notice: Annotated[str, Query(max_length=16)] = "",
) -> HTMLResponse:
    order = orders.get_order(session, actor, order_id)
    return _order_page(request, session, actor, order, notice=notice)


@router.post("/shop/orders/{order_id}/cancel", response_class=HTMLResponse)
async def cancel(order_id: int, request: Request, session: DbSession, actor: PageActor) -> Response:
    raw = await posted(request)
    try:
        orders.act(session, actor, order_id=order_id, action="cancel", note=raw.get("note", ""))
    except DomainError as exc:
        errors = refused(request, session, actor, exc)
        order = orders.get_order(session, actor, order_id)
        return _order_page(request, session, actor, order, errors=errors, status_code=exc.status_code)
    return RedirectResponse(f"/shop/orders/{order_id}?notice=cancelled", status_code=303)


@router.post("/shop/orders/{order_id}/rate", response_class=HTMLResponse)
async def rate(order_id: int, request: Request, session: DbSession, actor: PageActor) -> Response:
    raw = await posted(request)
    level = raw.get("level", "")
    try:
        orders.rate(
            session,
            actor,
            order_id=order_id,
            level=int(level) if level.isdigit() else 0,
            comment=raw.get("comment", ""),
        )
    except DomainError as exc:
        errors = refused(request, session, actor, exc)
        order = orders.get_order(session, actor, order_id)
        return _order_page(request, session, actor, order, errors=errors, status_code=exc.status_code)
    return RedirectResponse(f"/shop/orders/{order_id}?notice=rated", status_code=303)
