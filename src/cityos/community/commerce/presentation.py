"""How commerce figures read, in the reader's language: prices (¥80/次, 面议), distances
(350 米, 1.2 公里), opening state and local times."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from cityos.community.commerce import hours, orders, service
from cityos.community.commerce.models import Offer, Order
from cityos.core.db import utcnow
from cityos.core.i18n import N_, translate

MSG_NEGOTIABLE = N_("Price on request")
MSG_FREE = N_("Free service")


def yuan(fen: int) -> str:
    """8000 -> 80, 8050 -> 80.50."""
    whole, cents = divmod(fen, 100)
    return f"{whole:,}" if cents == 0 else f"{whole:,}.{cents:02d}"


def price_label(fen: int | None, unit: str = "") -> str:
    if fen is None:
        return translate(MSG_NEGOTIABLE)
    if fen == 0:
        return translate(MSG_FREE)
    return f"¥{yuan(fen)}" + (f"/{unit}" if unit else "")


def distance(metres: float) -> str:
    msgid, params = service.distance_label(metres)
    return translate(msgid, **params)


def open_now(offer: Offer, now: datetime | None = None) -> bool:
    return hours.is_open(offer.opening_hours, now or utcnow())


def local(moment: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A stored UTC time in the city's time zone."""
    return moment.astimezone(hours.zone()).strftime(fmt) if moment is not None else ""


def order_row(order: Order) -> dict[str, Any]:
    return {
        "id": order.id,
        "no": order.no,
        "title": order.title,
        "status": order.status,
        "status_title": translate(orders.STATUS_TITLES.get(order.status, order.status)),
        "price": price_label(order.price_fen, order.unit),
        "address": order.address,
        "created": local(order.created_at),
        "preferred": local(order.preferred_at),
        "rating": order.rating,
    }


def timeline_rows(session: Session, order: Order) -> list[dict[str, Any]]:
    return [
        {
            "title": translate(orders.ACTION_TITLES.get(e.action, e.action)),
            "action": e.action,
            "at": local(e.at),
            "note": e.note,
            "side": e.by_side,
        }
        for e in orders.events_of(session, order)
    ]
