"""Alarm rules (告警规则) over device readings and the alarm state of each device under each rule.

A rule says which devices it watches (a device kind, an ingest profile, or both), which
attribute, the comparison that raises the alarm and the one that ends it (hysteresis), and
the case category the alarm opens. ``AlarmState`` keeps, per device and rule, whether an
episode is open, so an alarm is raised on the crossing and not on every reading.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cityos.core.db import Base, JSONType, PathType, UTCDateTime, utcnow

OPERATORS = (">", ">=", "<", "<=", "==", "!=")


class AlarmRule(Base):
    """``threshold`` and ``clear_threshold`` are numbers, or for ``==``/``!=`` a string or a
    boolean (``doorState == "forced"``). ``region_path`` is the subtree the rule watches ("/" for
    the shipped rules); ``code`` names a shipped rule, so installing it again finds it."""

    __tablename__ = "hub_alarm_rule"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    name: Mapped[str] = mapped_column(String(128))
    device_kind: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    profile_code: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    attribute: Mapped[str] = mapped_column(String(64))
    operator: Mapped[str] = mapped_column(String(2))
    threshold: Mapped[Any] = mapped_column(JSONType)
    clear_threshold: Mapped[Any | None] = mapped_column(JSONType, nullable=True)
    category_code: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str] = mapped_column(String(200), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    region_id: Mapped[int | None] = mapped_column(ForeignKey("region.id"), nullable=True)
    region_path: Mapped[str] = mapped_column(PathType, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class AlarmState(Base):
    """One device under one rule. ``episode`` counts the alarms raised so far; the open one's
    ``alarm_id`` is what the cases module de-duplicates on."""

    __tablename__ = "hub_alarm_state"
    __table_args__ = (UniqueConstraint("rule_id", "device_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rule_id: Mapped[int] = mapped_column(ForeignKey("hub_alarm_rule.id", ondelete="CASCADE"), index=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("device.id", ondelete="CASCADE"), index=True)
    device_code: Mapped[str] = mapped_column(String(64))
    region_path: Mapped[str] = mapped_column(PathType, index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    episode: Mapped[int] = mapped_column(Integer, default=0)
    alarm_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    value: Mapped[Any | None] = mapped_column(JSONType, nullable=True)  # the reading that raised it
    last_value: Mapped[Any | None] = mapped_column(JSONType, nullable=True)
    lon: Mapped[float | None] = mapped_column(Float, nullable=True)
    lat: Mapped[float | None] = mapped_column(Float, nullable=True)
    since: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    cleared_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
