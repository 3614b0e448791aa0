"""邻里商业: merchants' service offers within 3 km, residents' orders with their timeline.

A merchant is an ``Organisation`` of kind ``merchant``; its accounts carry ``organisation_id``.
An order keeps a copy of what was offered (title, price, unit) so a later edit of the offer does
not change what the resident ordered. Ratings are ``cases.models.Rating`` rows with subject type
``order``; the order keeps the latest level so a merchant's average is one aggregate.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Boolean, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cityos.core.db import Base, PathType, UTCDateTime, utcnow

_ID = BigInteger().with_variant(Integer, "sqlite")


class OrderStatus(StrEnum):
    PLACED = "placed"  # 待接单
    ACCEPTED = "accepted"  # 已接单
    IN_SERVICE = "in_service"  # 服务中
    DONE = "done"  # 已完成
    REJECTED = "rejected"  # 已拒单
    CANCELLED = "cancelled"  # 已取消


OPEN_STATUSES = (OrderStatus.PLACED, OrderStatus.ACCEPTED, OrderStatus.IN_SERVICE)


class Offer(Base):
    """A service a merchant offers to residents within ``radius_m`` of the shop (至多 3 km).

    ``price_fen`` is the price in fen; None means 面议 (agreed on the spot). ``lon``/``lat`` are
    the shop's location, from its organisation's region unless set explicitly.
    ``opening_hours`` is ``HH:MM-HH:MM`` ranges separated by commas, in the city's time; empty
    means not stated."""

    __tablename__ = "commerce_offer"

    id: Mapped[int] = mapped_column(_ID, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"), index=True)
    category: Mapped[str] = mapped_column(String(32), index=True)
    title: Mapped[str] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(Text, default="")
    price_fen: Mapped[int | None] = mapped_column(Integer, nullable=True)
    unit: Mapped[str] = mapped_column(String(16), default="")
    radius_m: Mapped[int] = mapped_column(Integer, default=3000)
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    region_path: Mapped[str] = mapped_column(PathType, index=True)  # the organisation's region
    opening_hours: Mapped[str] = mapped_column(String(64), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    # The nearby search scans a latitude band, then filters longitude, then measures.
    __table_args__ = (Index("ix_commerce_offer_lat_lon", "lat", "lon"),)

    @property
    def name(self) -> str:
        return self.title


class Order(Base):
    """A resident's order of an offer (下单), followed through accept, service and done.

    ``phone_enc`` is the contact number, AES-GCM encrypted; the merchant sees it masked until
    the order is accepted. ``region_path`` is the room's (the address), for scoped reads."""

    __tablename__ = "commerce_order"

    id: Mapped[int] = mapped_column(_ID, primary_key=True)
    no: Mapped[str] = mapped_column(String(24), unique=True)
    offer_id: Mapped[int] = mapped_column(_ID, ForeignKey("commerce_offer.id", ondelete="CASCADE"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"), nullable=True)
    person_id: Mapped[int | None] = mapped_column(
        ForeignKey("person.id", ondelete="SET NULL"), nullable=True, index=True
    )
    title: Mapped[str] = mapped_column(String(64))
    category: Mapped[str] = mapped_column(String(32))
    price_fen: Mapped[int | None] = mapped_column(Integer, nullable=True)
    unit: Mapped[str] = mapped_column(String(16), default="")
    room_id: Mapped[int | None] = mapped_column(ForeignKey("region.id"), nullable=True)
    region_path: Mapped[str | None] = mapped_column(PathType, nullable=True, index=True)
    address: Mapped[str] = mapped_column(String(255))
    preferred_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    note: Mapped[str] = mapped_column(Text, default="")
    phone_enc: Mapped[str | None] = mapped_column(Text, nullable=True)
    status: Mapped[str] = mapped_column(String(16), default=OrderStatus.PLACED)
    reason: Mapped[str] = mapped_column(Text, default="")  # why it was rejected or cancelled
    rating: Mapped[int | None] = mapped_column(Integer, nullable=True)  # the latest rating's level
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)  # rejected or cancelled
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    __table_args__ = (
        Index("ix_commerce_order_org_status", "organisation_id", "status"),
        Index("ix_commerce_order_account_created", "account_id", "created_at"),
        Index("ix_commerce_order_status_created", "status", "created_at"),  # unanswered orders, per minute
    )

    @property
    def name(self) -> str:
        return self.title


class OrderEvent(Base):
    """One step of an order's timeline: who did what, when, and the note they gave."""

    __tablename__ = "commerce_order_event"

    id: Mapped[int] = mapped_column(_ID, primary_key=True)
    order_id: Mapped[int] = mapped_column(_ID, ForeignKey("commerce_order.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(String(16))  # placed | accepted | rejected | started | done | cancelled | rated
    status: Mapped[str] = mapped_column(String(16))  # the order's status after the step
    by_account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"), nullable=True)
    by_side: Mapped[str] = mapped_column(String(16))  # resident | merchant | system
    note: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
