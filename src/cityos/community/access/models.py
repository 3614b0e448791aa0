"""电子出入码 and what surrounds it: an estate's entry rules, entry passes (residents' and
visitors'), blocked rooms, goods-out slips (出门条) and the access log written by the gates.

Gates themselves are devices (``places.devices``) of kind ``gate`` placed in the estate."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cityos.core.db import Base, JSONType, PathType, UTCDateTime, utcnow

BigId = BigInteger().with_variant(Integer, "sqlite")


class PassKind(StrEnum):
    RESIDENT = "resident"
    VISITOR = "visitor"


class PassStatus(StrEnum):
    ACTIVE = "active"
    EXPIRED = "expired"
    REVOKED = "revoked"  # by the property office (撤销)
    CANCELLED = "cancelled"  # by its holder or, for a visitor pass, by the inviting resident
    USED_UP = "used_up"  # a visitor pass with no entries left


class SlipStatus(StrEnum):
    ACTIVE = "active"
    USED = "used"  # the goods went out
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class AccessRules(Base):
    """One estate's entry rules (小区通行规则). ``windows`` maps a residence relation (owner,
    tenant, family, collective) or ``visitor`` to the local time window ``["06:00", "23:00"]``
    in which its passes open the gates; a relation that is not listed may pass at any time.
    ``exit_limit`` exits per household (room) within ``exit_period_hours`` (e.g. 1 exit in 48
    hours during a lockdown); no limit when it is None."""

    __tablename__ = "access_rules"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("region.id"), unique=True)
    estate_path: Mapped[str] = mapped_column(PathType, index=True)
    max_passes_per_person: Mapped[int] = mapped_column(Integer)
    max_passes_per_household: Mapped[int] = mapped_column(Integer)
    windows: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    exit_limit: Mapped[int | None] = mapped_column(Integer, nullable=True)
    exit_period_hours: Mapped[int] = mapped_column(Integer)
    visitor_max_hours: Mapped[int] = mapped_column(Integer)
    visitor_max_entries: Mapped[int] = mapped_column(Integer)
    rotation_seconds: Mapped[int] = mapped_column(Integer)
    validity_days: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("account.id"), nullable=True)


class EntryPass(Base):
    """出入码: a resident's pass for one of their rooms, or a visitor pass a resident issued.

    A visitor is not a registered person: their name and phone are stored field-encrypted
    (``visitor_name_enc``, ``visitor_phone_enc``) and shown masked. A visitor pass is opened by
    a secret link; only the link code's keyed hash is kept for lookup, and its encrypted copy
    so the inviting resident can send it again."""

    __tablename__ = "entry_pass"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    estate_path: Mapped[str] = mapped_column(PathType, index=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    room_code: Mapped[str] = mapped_column(String(32))
    label: Mapped[str] = mapped_column(String(255))  # 阳光小区 1栋 1单元 101
    kind: Mapped[str] = mapped_column(String(16), default=PassKind.RESIDENT)
    relation: Mapped[str] = mapped_column(String(16))  # owner|tenant|family|collective|visitor
    holder_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), nullable=True, index=True)
    host_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), nullable=True, index=True)
    visitor_name_enc: Mapped[str | None] = mapped_column(Text, nullable=True)
    visitor_phone_enc: Mapped[str | None] = mapped_column(Text, nullable=True)
    link_hash: Mapped[str | None] = mapped_column(String(64), nullable=True, unique=True)
    link_enc: Mapped[str | None] = mapped_column(Text, nullable=True)
    status: Mapped[str] = mapped_column(String(16), default=PassStatus.ACTIVE)
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime)
    valid_until: Mapped[datetime] = mapped_column(UTCDateTime)
    entries_max: Mapped[int | None] = mapped_column(Integer, nullable=True)
    entries_left: Mapped[int | None] = mapped_column(Integer, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True, index=True)
    revoked_reason: Mapped[str | None] = mapped_column(String(255), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        Index("ix_entry_pass_status_valid_until", "status", "valid_until"),
        Index("ix_entry_pass_estate_id_kind_status", "estate_id", "kind", "status"),
    )

    @property
    def title(self) -> str:
        """What the resident's home page shows for the pass."""
        return self.label


class BlockedRoom(Base):
    """A room whose passes (and visitor passes) the gates refuse, with the reason (e.g. 隔离)."""

    __tablename__ = "access_blocked_room"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("region.id"))
    room_code: Mapped[str] = mapped_column(String(32))
    label: Mapped[str] = mapped_column(String(255))
    reason: Mapped[str] = mapped_column(String(200))
    blocked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    blocked_by: Mapped[int | None] = mapped_column(ForeignKey("account.id"), nullable=True)

    __table_args__ = (UniqueConstraint("room_id", name="uq_access_blocked_room_room_id"),)


class GoodsSlip(Base):
    """出门条: goods a resident registered to take out within a time window; the guard at the
    gate checks the slip's code (a QR) and lets the goods out once."""

    __tablename__ = "goods_slip"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    estate_path: Mapped[str] = mapped_column(PathType, index=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("region.id"))
    label: Mapped[str] = mapped_column(String(255))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    description: Mapped[str] = mapped_column(String(200))
    code: Mapped[str] = mapped_column(String(16), unique=True)
    status: Mapped[str] = mapped_column(String(16), default=SlipStatus.ACTIVE)
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime)
    valid_until: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    used_gate_id: Mapped[int | None] = mapped_column(ForeignKey("device.id"), nullable=True)
    checked_by: Mapped[int | None] = mapped_column(ForeignKey("account.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (Index("ix_goods_slip_status_valid_until", "status", "valid_until"),)

    @property
    def title(self) -> str:
        return self.description


class AccessEvent(Base):
    """One pass (or goods slip) shown at a gate: who, which way, allowed or refused and why.

    Append-only. ``client_id`` is the gate's own id for an event it recorded while offline, so
    an upload sent twice is stored once; ``late`` marks events that arrived long after they
    happened (their counts were not enforced at the time)."""

    __tablename__ = "access_event"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("region.id"))
    estate_path: Mapped[str] = mapped_column(PathType)
    gate_id: Mapped[int | None] = mapped_column(ForeignKey("device.id"), nullable=True)
    pass_id: Mapped[int | None] = mapped_column(ForeignKey("entry_pass.id"), nullable=True, index=True)
    slip_id: Mapped[int | None] = mapped_column(ForeignKey("goods_slip.id"), nullable=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), nullable=True)
    room_id: Mapped[int | None] = mapped_column(ForeignKey("region.id"), nullable=True)
    kind: Mapped[str] = mapped_column(String(16))  # resident | visitor | goods | unknown
    direction: Mapped[str] = mapped_column(String(8))  # in | out
    result: Mapped[str] = mapped_column(String(8))  # allowed | refused
    reason: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    recorded_offline: Mapped[bool] = mapped_column(Boolean, default=False)
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    client_id: Mapped[str | None] = mapped_column(String(64), nullable=True)

    __table_args__ = (
        UniqueConstraint("gate_id", "client_id", name="uq_access_event_gate_id_client_id"),
        Index("ix_access_event_estate_path_at", "estate_path", "at"),
        Index("ix_access_event_room_id_direction_at", "room_id", "direction", "at"),
    )
