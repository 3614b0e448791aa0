"""API schemas of neighbourhood commerce (邻里商业). Types are checked here; the rules (which
categories, radius up to 3 km, opening hours, the preferred time) in the service, so pages and
the API give the same field messages."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt

from cityos.community.commerce import orders, presentation, service
from cityos.community.commerce.models import Offer, Order, OrderEvent
from cityos.core.i18n import translate

Coordinate = Annotated[float, Field(allow_inf_nan=False)]


class CategoryRead(BaseModel):
    key: str
    title: str


class OfferRead(BaseModel):
    id: int
    organisation_id: int
    shop_name: str
    category: str
    category_title: str
    title: str
    description: str
    price_fen: int | None  # None: 面议
    price_label: str
    unit: str
    radius_m: int
    lon: float
    lat: float
    opening_hours: str
    open_now: bool
    active: bool
    rating: float | None  # the shop's average of its orders' latest ratings
    ratings: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, offer: Offer, *, shop_name: str, rating: service.ShopRating | None) -> OfferRead:
        return cls(
            id=offer.id,
            organisation_id=offer.organisation_id,
            shop_name=shop_name,
            category=offer.category,
            category_title=translate(service.category_title(offer.category)),
            title=offer.title,
            description=offer.description,
            price_fen=offer.price_fen,
            price_label=presentation.price_label(offer.price_fen, offer.unit),
            unit=offer.unit,
            radius_m=offer.radius_m,
            lon=offer.lon,
            lat=offer.lat,
            opening_hours=offer.opening_hours,
            open_now=presentation.open_now(offer),
            active=offer.active,
            rating=rating.average if rating else None,
            ratings=rating.count if rating else 0,
            created_at=offer.created_at,
            updated_at=offer.updated_at,
        )


class NearbyRead(OfferRead):
    distance_m: int  # to the metre
    distance_label: str  # as shown: to the 100 m

    @classmethod
    def found(cls, n: service.Nearby) -> NearbyRead:
        base = OfferRead.of(n.offer, shop_name=n.shop_name, rating=n.rating).model_dump()
        return cls(**base, distance_m=int(round(n.distance_m)), distance_label=presentation.distance(n.distance_m))


class OfferCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    organisation_id: StrictInt | None = None  # operators only: the shop to publish for
    category: str = Field(max_length=32)
    title: str = Field(max_length=200)
    description: str = Field("", max_length=5000)
    price_fen: StrictInt | None = None
    unit: str = Field("", max_length=64)
    radius_m: StrictInt = service.MAX_RADIUS_M
    lon: Coordinate | None = None
    lat: Coordinate | None = None
    opening_hours: str = Field("", max_length=128)
    active: StrictBool = True


class OfferUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    category: str | None = Field(None, max_length=32)
    title: str | None = Field(None, max_length=200)
    description: str | None = Field(None, max_length=5000)
    price_fen: StrictInt | None = None
    unit: str | None = Field(None, max_length=64)
    radius_m: StrictInt | None = None
    lon: Coordinate | None = None
    lat: Coordinate | None = None
    opening_hours: str | None = Field(None, max_length=128)
    active: StrictBool | None = None


class OrderCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    room_id: StrictInt | None = None  # one of your homes; default: the first (owner's room first)
    address: str | None = Field(None, max_length=1000)  # default: the home's address
    phone: str | None = Field(None, max_length=32)  # default: the phone on your record
    preferred_at: datetime | None = None  # default: as soon as possible
    note: str | None = Field(None, max_length=5000)


class StepIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str | None = Field(None, max_length=5000)  # a reason is needed to decline


class RatingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    level: StrictInt
    comment: str | None = Field(None, max_length=5000)


class OrderRead(BaseModel):
    id: int
    no: str
    offer_id: int
    organisation_id: int
    title: str
    category: str
    price_fen: int | None
    price_label: str
    unit: str
    address: str
    preferred_at: datetime | None
    note: str
    phone: str | None  # masked, except to the shop from acceptance until done
    status: str
    status_title: str
    reason: str
    rating: int | None
    created_at: datetime
    accepted_at: datetime | None
    started_at: datetime | None
    done_at: datetime | None
    closed_at: datetime | None

    @classmethod
    def of(cls, order: Order, *, phone: str | None) -> OrderRead:
        return cls(
            id=order.id,
            no=order.no,
            offer_id=order.offer_id,
            organisation_id=order.organisation_id,
            title=order.title,
            category=order.category,
            price_fen=order.price_fen,
            price_label=presentation.price_label(order.price_fen, order.unit),
            unit=order.unit,
            address=order.address,
            preferred_at=order.preferred_at,
            note=order.note,
            phone=phone,
            status=order.status,
            status_title=translate(orders.STATUS_TITLES.get(order.status, order.status)),
            reason=order.reason,
            rating=order.rating,
            created_at=order.created_at,
            accepted_at=order.accepted_at,
            started_at=order.started_at,
            done_at=order.done_at,
            closed_at=order.closed_at,
        )


class StepRead(BaseModel):
    action: str
    title: str
    status: str
    by_side: str
    note: str
    at: datetime

    @classmethod
    def of(cls, event: OrderEvent) -> StepRead:
        return cls(
            action=event.action,
            title=translate(orders.ACTION_TITLES.get(event.action, event.action)),
            status=event.status,
            by_side=event.by_side,
            note=event.note,
            at=event.at,
        )


class OrderDetail(OrderRead):
    timeline: list[StepRead]
    actions: list[str]  # the steps you may take now
    can_rate: bool
    rating_comment: str | None


class OrderPage(BaseModel):
    items: list[OrderRead]
    total: int
    page: int
    size: int
