"""Models of mobility.alerts: congestion alert rules (拥堵告警规则), the alerts they raise, the
guidance messages (诱导信息) published for navigation apps and signs, and the last bin evaluated.

A rule watches segments (their fused state, or their speed against the same time of the week)
or corridors (their TPI band) and raises an alert once the condition has held for
``duration_min``; the alert clears once it has not held for ``clear_min`` (hysteresis). One
alert is one episode: it keeps the case it opened and the guidance it published.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from cityos.core.db import Base, JSONType, PathType, UTCDateTime, utcnow

TARGETS: tuple[str, ...] = ("segment", "corridor")
KINDS: tuple[str, ...] = ("band", "baseline")
STATUSES: tuple[str, ...] = ("open", "acknowledged", "cleared")
OPEN_STATUSES: tuple[str, ...] = ("open", "acknowledged")
MESSAGE_KINDS: tuple[str, ...] = ("congestion", "cleared")


class TrafficAlertRule(Base):
    """``kind`` band: the segment state / corridor TPI band is at least ``min_band``; baseline: the
    segment speed is below ``ratio`` × its mean at the same 5-minute slot of the week over the
    past weeks (at least ``min_weeks`` of them). ``code`` names a shipped rule."""

    __tablename__ = "traffic_alert_rule"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    name: Mapped[str] = mapped_column(String(128))
    target: Mapped[str] = mapped_column(String(16))  # TARGETS
    kind: Mapped[str] = mapped_column(String(16))  # KINDS
    min_band: Mapped[int | None] = mapped_column(SmallInteger, nullable=True)  # band: 1..5
    ratio: Mapped[float | None] = mapped_column(Float, nullable=True)  # baseline: 0 < ratio < 1
    min_weeks: Mapped[int | None] = mapped_column(SmallInteger, nullable=True)  # baseline: weeks of history
    duration_min: Mapped[int] = mapped_column(Integer)  # N: raise after this long (multiple of 5)
    clear_min: Mapped[int] = mapped_column(Integer)  # M: clear after this long without the condition
    road_classes: Mapped[list[str] | None] = mapped_column(JSONType, nullable=True)  # segments: None = all
    region_id: Mapped[int | None] = mapped_column(ForeignKey("region.id", ondelete="SET NULL"), nullable=True)
    region_path: Mapped[str | None] = mapped_column(PathType, nullable=True)  # segments: within this place
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class TrafficAlert(Base):
    """One congestion episode on one target under one rule."""

    __tablename__ = "traffic_alert"
    __table_args__ = (
        Index("ix_traffic_alert_rule_target", "rule_id", "target_id"),
        Index("ix_traffic_alert_status_started", "status", "started_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    alert_id: Mapped[str] = mapped_column(String(32), unique=True)  # stable id on the bus and in the case
    rule_id: Mapped[int | None] = mapped_column(ForeignKey("traffic_alert_rule.id", ondelete="SET NULL"), nullable=True)
    rule_kind: Mapped[str] = mapped_column(String(16))  # band | baseline
    kind: Mapped[str] = mapped_column(String(16))  # segment | corridor
    network_code: Mapped[str] = mapped_column(String(64))
    target_id: Mapped[str] = mapped_column(String(128))  # segment id or corridor code
    target_name: Mapped[str] = mapped_column(String(200))
    target_name_en: Mapped[str | None] = mapped_column(String(200), nullable=True)
    road_class: Mapped[str | None] = mapped_column(String(16), nullable=True)
    severity: Mapped[int] = mapped_column(SmallInteger)  # state / TPI band, 1..5
    max_severity: Mapped[int] = mapped_column(SmallInteger)
    speed_kmh: Mapped[float | None] = mapped_column(Float, nullable=True)
    baseline_kmh: Mapped[float | None] = mapped_column(Float, nullable=True)
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    region_path: Mapped[str] = mapped_column(PathType, index=True, default="/")  # where it is ("/": no region)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)  # the end of the last bin it held in
    cleared_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="open")  # STATUSES
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    acknowledged_by: Mapped[str | None] = mapped_column(String(128), nullable=True)
    closed_by: Mapped[str | None] = mapped_column(String(128), nullable=True)  # an operator closed it
    case_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    case_no: Mapped[str | None] = mapped_column(String(32), nullable=True)


class GuidanceMessage(Base):
    """A message of the guidance feed: no personal data, meant for apps and signs."""

    __tablename__ = "guidance_message"
    __table_args__ = (Index("ix_guidance_message_expires", "expires_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)  # also the feed's cursor
    message_id: Mapped[str] = mapped_column(String(32), unique=True)
    alert_id: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    kind: Mapped[str] = mapped_column(String(16))  # MESSAGE_KINDS
    target_kind: Mapped[str] = mapped_column(String(16))
    target_id: Mapped[str] = mapped_column(String(128))
    severity: Mapped[int | None] = mapped_column(SmallInteger, nullable=True)
    text_zh: Mapped[str] = mapped_column(String(400))
    text_en: Mapped[str] = mapped_column(String(400))
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class AlertCursor(Base):
    """The last bin the rules were evaluated for, per network: a bin delivered twice (or an older
    bin recomputed later) is not evaluated again."""

    __tablename__ = "traffic_alert_cursor"

    network_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_bin_start: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
