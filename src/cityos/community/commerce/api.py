"""JSON routes of neighbourhood commerce (邻里商业): offers near a point, a shop's offers, orders
and their steps, ratings."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from sqlalchemy.orm import Session

from cityos.community.commerce import orders, service
from cityos.community.commerce.models import Offer, Order, OrderStatus
from cityos.community.commerce.schemas import (
    CategoryRead,
    NearbyRead,
    OfferCreate,
    OfferRead,
    OfferUpdate,
    OrderCreate,
    OrderDetail,
    OrderPage,
    OrderRead,
    RatingIn,
    StepIn,
    StepRead,
)
from cityos.core.actor import Actor
from cityos.core.errors import FieldError, Forbidden, Invalid
from cityos.core.http import DbSession
from cityos.core.i18n import N_, translate
from cityos.identity.deps import CurrentActor

router = APIRouter(prefix="/api/v1", tags=["community"])

MSG_WHERE = N_("Give a place to search around (lon and lat); you have no home on record.")
MSG_SIDE = N_("Must be one of: {expected}.")
MSG_STATUS = N_("Must be one of: {expected}.")
Step = Annotated[str, Path(max_length=16)]


def _offer_read(session: Session, offer: Offer) -> OfferRead:
    names = service.shop_names(session, {offer.organisation_id})
    rating = service.merchant_ratings(session, {offer.organisation_id}).get(offer.organisation_id)
    return OfferRead.of(offer, shop_name=names.get(offer.organisation_id, ""), rating=rating)


def _offer_reads(session: Session, offers: list[Offer]) -> list[OfferRead]:
    orgs = {o.organisation_id for o in offers}
    names, ratings = service.shop_names(session, orgs), service.merchant_ratings(session, orgs)
    return [
        OfferRead.of(o, shop_name=names.get(o.organisation_id, ""), rating=ratings.get(o.organisation_id))
        for o in offers
    ]


def _order_read(order: Order) -> OrderRead:
    return OrderRead.of(order, phone=orders.masked_phone(order))


def _needs(actor: Actor) -> None:
    if not (actor.can("commerce:order") or actor.can("commerce:sell")):
        raise Forbidden(params={"permission": "commerce:order"})


@router.get("/shop/categories", response_model=list[CategoryRead])
def list_categories(actor: CurrentActor) -> list[CategoryRead]:
    """The categories of neighbourhood services (家政, 维修, 3C快修 …), in the caller's language."""
    _needs(actor)
    return [CategoryRead(key=k, title=translate(v)) for k, v in service.CATEGORIES.items()]


@router.get("/shop/offers", response_model=list[NearbyRead])
def nearby(
    session: DbSession,
    actor: CurrentActor,
    lon: Annotated[float | None, Query(allow_inf_nan=False)] = None,
    lat: Annotated[float | None, Query(allow_inf_nan=False)] = None,
    radius_m: Annotated[int, Query()] = service.MAX_RADIUS_M,
    category: Annotated[str | None, Query(max_length=32)] = None,
) -> list[NearbyRead]:
    """Offers within ``radius_m`` (≤ 3 km) of the point whose own radius reaches it, nearest
    first, better rated first at the same distance. Without a point: around your home."""
    _needs(actor)
    if lon is None and lat is None:
        point = orders.home_point(session, actor)
        if point is None:
            raise Invalid(details=[FieldError("lon", MSG_WHERE)])
        lon, lat = point
    found = service.nearby(
        session,
        actor,
        lon=lon,  # type: ignore[arg-type]  # one missing coordinate is a field error
        lat=lat,  # type: ignore[arg-type]
        radius_m=radius_m,
        category=category or None,
    )
    return [NearbyRead.found(n) for n in found]


@router.get("/shop/offers/{shop_offer_id}", response_model=OfferRead)
def get_offer(shop_offer_id: int, session: DbSession, actor: CurrentActor) -> OfferRead:
    return _offer_read(session, service.get_offer(session, actor, shop_offer_id))


@router.post("/shop/offers", response_model=OfferRead, status_code=201)
def create_offer(body: OfferCreate, session: DbSession, actor: CurrentActor) -> OfferRead:
    """Publish an offer of your shop (operators: of the shop named by ``organisation_id``)."""
    offer = service.create_offer(session, actor, **body.model_dump())
    return _offer_read(session, offer)


@router.patch("/shop/offers/{shop_offer_id}", response_model=OfferRead)
def update_offer(shop_offer_id: int, body: OfferUpdate, session: DbSession, actor: CurrentActor) -> OfferRead:
    """Change an offer of your shop; ``active: false`` takes it off the list."""
    changes = body.model_dump(exclude_unset=True)
    offer = service.update_offer(session, actor, offer_id=shop_offer_id, **changes)
    return _offer_read(session, offer)


@router.get("/shop/my-offers", response_model=list[OfferRead])
def my_offers(session: DbSession, actor: CurrentActor) -> list[OfferRead]:
    """Your shop's offers, switched-off ones included (operators: those of their area)."""
    return _offer_reads(session, service.shop_offers(session, actor))


@router.post("/shop/offers/{shop_offer_id}/orders", response_model=OrderRead, status_code=201)
def place_order(shop_offer_id: int, body: OrderCreate, session: DbSession, actor: CurrentActor) -> OrderRead:
    """下单 for one of your homes: address and phone default to your records."""
    order = orders.place_order(session, actor, offer_id=shop_offer_id, **body.model_dump())
    return _order_read(order)


@router.get("/shop/orders", response_model=OrderPage)
def list_orders(
    session: DbSession,
    actor: CurrentActor,
    side: Annotated[str, Query(max_length=8)] = "mine",
    status: Annotated[str | None, Query(max_length=16)] = None,
    page: Annotated[int, Query(ge=1)] = 1,
    size: Annotated[int, Query(ge=1, le=100)] = 20,
) -> OrderPage:
    """``side=mine``: the orders you placed; ``side=shop``: your shop's orders."""
    errors = []
    if side not in ("mine", "shop"):
        errors.append(FieldError("side", MSG_SIDE, {"expected": "mine, shop"}))
    if status is not None and status not in tuple(OrderStatus):
        errors.append(FieldError("status", MSG_STATUS, {"expected": ", ".join(OrderStatus)}))
    if errors:
        raise Invalid(details=errors)
    rows, total = orders.list_orders(
        session,
        actor,
        side=side,
        statuses=(status,) if status else (),
        limit=size,
        offset=(page - 1) * size,
    )
    return OrderPage(items=[_order_read(o) for o in rows], total=total, page=page, size=size)


@router.get("/shop/orders/{shop_order_id}", response_model=OrderDetail)
def get_order(shop_order_id: int, session: DbSession, actor: CurrentActor) -> OrderDetail:
    """The order with its timeline and the steps you may take; the shop sees the phone in full
    from acceptance until the service is done (each such read is audited)."""
    order = orders.get_order(session, actor, shop_order_id)
    rating = orders.rating_of(session, order)
    base = OrderRead.of(order, phone=orders.phone_for(session, actor, order)).model_dump()
    return OrderDetail(
        **base,
        timeline=[StepRead.of(e) for e in orders.events_of(session, order)],
        actions=orders.available_actions(actor, order),
        can_rate=orders.can_rate(session, actor, order),
        rating_comment=rating.comment if rating is not None else None,
    )


@router.post("/shop/orders/{shop_order_id}/steps/{step}", response_model=OrderRead)
def act(shop_order_id: int, step: Step, body: StepIn, session: DbSession, actor: CurrentActor) -> OrderRead:
    """The shop: accept, reject (with a reason in ``note``), start, done. The resident: cancel
    (until the shop has accepted)."""
    order = orders.act(session, actor, order_id=shop_order_id, action=step, note=body.note)
    return _order_read(order)


@router.post("/shop/orders/{shop_order_id}/rating", response_model=OrderRead)
def rate(shop_order_id: int, body: RatingIn, session: DbSession, actor: CurrentActor) -> OrderRead:
    """好差评 of a done order (1–5 with a comment): once, and changed once."""
    order = orders.rate(session, actor, order_id=shop_order_id, level=body.level, comment=body.comment)
    return _order_read(order)
