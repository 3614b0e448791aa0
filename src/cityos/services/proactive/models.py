"""服务找人: the rules that find people eligible for a service, and the offers they make."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cityos.core.db import Base, JSONType, PathType, UTCDateTime, utcnow


class OfferStatus(StrEnum):
    OFFERED = "offered"  # 待办理
    APPLIED = "applied"  # 已申请
    DISMISSED = "dismissed"  # 不需要


class ProactiveRule(Base):
    """One rule over life events and person data (出生, 年满60周岁, 企业设立). The trigger logic is
    code; what it offers, its parameters and whether it runs are data an operator edits.
    ``targets`` are ``"item:<code>"`` or ``"bundle:<code>"``; ``params`` holds the rule's numbers
    (``{"age": 60, "window_days": 30}``)."""

    __tablename__ = "proactive_rule"

    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    title: Mapped[str] = mapped_column(String(128))  # an English msgid, shown translated
    description: Mapped[str] = mapped_column(Text, default="")  # an English msgid
    audience: Mapped[str] = mapped_column(String(16), default="person")  # person | organisation
    targets: Mapped[list[str]] = mapped_column(JSONType, default=list)
    params: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Offer(Base):
    """A service offered to a person or an organisation because a rule found them eligible.

    ``subject_key`` (``person:<id>`` or ``organisation:<id>``), ``target`` and ``occasion`` (the
    life event: ``birth:<child id>`` for a newborn; empty where the event happens once) make
    the offer unique, so nobody is offered the same thing twice. ``reason_msgid`` and
    ``reason_params`` make the sentence that says why, in the reader's language."""

    __tablename__ = "proactive_offer"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    rule_key: Mapped[str] = mapped_column(ForeignKey("proactive_rule.key"), index=True)
    subject_key: Mapped[str] = mapped_column(String(40))
    person_id: Mapped[int | None] = mapped_column(
        ForeignKey("person.id", ondelete="CASCADE"), nullable=True, index=True
    )
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), nullable=True, index=True
    )
    target: Mapped[str] = mapped_column(String(48))  # item:<code> | bundle:<code>
    item_code: Mapped[str | None] = mapped_column(String(32), nullable=True)
    bundle_code: Mapped[str | None] = mapped_column(String(32), nullable=True)
    occasion: Mapped[str] = mapped_column(String(48), default="")
    reason_msgid: Mapped[str] = mapped_column(Text)
    reason_params: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    region_path: Mapped[str | None] = mapped_column(PathType, nullable=True)
    status: Mapped[str] = mapped_column(String(16), default=OfferStatus.OFFERED)
    application_id: Mapped[int | None] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), ForeignKey("application.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    __table_args__ = (
        UniqueConstraint("subject_key", "rule_key", "target", "occasion", name="uq_proactive_offer_once"),
        Index("ix_proactive_offer_rule_status", "rule_key", "status"),
    )
