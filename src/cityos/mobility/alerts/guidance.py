"""The guidance feed (诱导信息发布): short messages in Chinese and English for navigation apps and
variable message signs, one when an alert is raised (congestion) and one when it clears.

A congestion message stays active while its alert holds (each bin pushes its expiry
``TTL`` past the bin's end) and expires when the alert clears; a cleared message is active for
``TTL``. ``feed`` answers the active messages, or with a cursor every message issued or changed
after it, so a client that polls with the returned cursor misses nothing.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from cityos.core.actor import Actor
from cityos.core.db import utcnow
from cityos.core.i18n import N_, translate
from cityos.mobility.alerts.models import GuidanceMessage, TrafficAlert
from cityos.mobility.events import GuidanceIssued
from cityos.mobility.indicators.config import state_name

TTL = timedelta(minutes=15)
FEED_LIMIT = 500
CURSOR_FORMAT = "%Y%m%dT%H%M%S.%fZ"

MSG_CONGESTION = N_("{target}: {level}, {speed} km/h now. Consider another route.")
MSG_CONGESTION_NO_SPEED = N_("{target}: {level}. Consider another route.")
MSG_CLEARED = N_("{target}: traffic is flowing again.")
ROAD_CLASS_TARGETS = {
    "expressway": N_("Expressway segment {id}"),
    "arterial": N_("Arterial segment {id}"),
    "secondary": N_("Secondary road segment {id}"),
    "branch": N_("Branch road segment {id}"),
}
MSG_SEGMENT = N_("Road segment {id}")


def target_label(alert: TrafficAlert, locale: str) -> str:
    """The alert's target as people name it: a corridor by its name, a segment by class and id."""
    if alert.kind == "corridor":
        return (alert.target_name_en or alert.target_name) if locale == "en" else alert.target_name
    msgid = ROAD_CLASS_TARGETS.get(alert.road_class or "", MSG_SEGMENT)
    return translate(msgid, locale, id=alert.target_id)


def level_label(severity: int, locale: str) -> str:
    return state_name(min(max(severity, 1), 5), lang="en" if locale == "en" else "zh")


def _text(alert: TrafficAlert, kind: str, locale: str) -> str:
    target = target_label(alert, locale)
    if kind == "cleared":
        return translate(MSG_CLEARED, locale, target=target)
    level = level_label(alert.severity, locale)
    if alert.speed_kmh is None:
        return translate(MSG_CONGESTION_NO_SPEED, locale, target=target, level=level)
    return translate(MSG_CONGESTION, locale, target=target, level=level, speed=f"{alert.speed_kmh:.0f}")


def _message(session: Session, alert: TrafficAlert, kind: str, at: datetime) -> GuidanceMessage:
    msg = GuidanceMessage(
        message_id=uuid.uuid4().hex,
        alert_id=alert.alert_id,
        kind=kind,
        target_kind=alert.kind,
        target_id=alert.target_id,
        severity=alert.severity if kind == "congestion" else None,
        text_zh=_text(alert, kind, "zh_CN")[:400],
        text_en=_text(alert, kind, "en")[:400],
        lon=alert.lon,
        lat=alert.lat,
        issued_at=at,
        expires_at=at + TTL,
    )
    session.add(msg)
    session.flush()
    return msg


def congestion(session: Session, alert: TrafficAlert, *, at: datetime) -> GuidanceMessage:
    return _message(session, alert, "congestion", at)


def refresh(session: Session, alert: TrafficAlert, *, at: datetime) -> None:
    """The alert still holds at ``at``: its congestion message stays active, with today's figures."""
    for msg in session.scalars(
        select(GuidanceMessage).where(GuidanceMessage.alert_id == alert.alert_id, GuidanceMessage.kind == "congestion")
    ):
        msg.expires_at = max(msg.expires_at, at + TTL)
        if msg.severity != alert.severity:
            msg.severity = alert.severity
            msg.text_zh = _text(alert, "congestion", "zh_CN")[:400]
            msg.text_en = _text(alert, "congestion", "en")[:400]
    session.flush()


def cleared(session: Session, alert: TrafficAlert, *, at: datetime) -> GuidanceMessage:
    """Ends the alert's congestion message and issues the cleared one."""
    for msg in session.scalars(
        select(GuidanceMessage).where(
            GuidanceMessage.alert_id == alert.alert_id,
            GuidanceMessage.kind == "congestion",
            GuidanceMessage.expires_at > at,
        )
    ):
        msg.expires_at = at
    return _message(session, alert, "cleared", at)


def event(msg: GuidanceMessage) -> GuidanceIssued:
    return GuidanceIssued(
        message_id=msg.message_id,
        alert_id=msg.alert_id,
        kind=msg.kind,
        target_id=msg.target_id,
        text_zh=msg.text_zh,
        text_en=msg.text_en,
        lon=msg.lon,
        lat=msg.lat,
        issued_at=msg.issued_at.isoformat(),
    )


@dataclass(frozen=True)
class Feed:
    items: list[GuidanceMessage]
    cursor: str  # pass back as ``since`` to get what changed after this answer


def _cursor(at: datetime) -> str:
    return at.astimezone(UTC).strftime(CURSOR_FORMAT)


def parse_cursor(text: str) -> datetime | None:
    """A cursor from ``feed`` (or an ISO 8601 time); None when it is neither."""
    try:
        return datetime.strptime(text, CURSOR_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        pass
    try:
        at = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def feed(session: Session, actor: Actor, *, since: datetime | None = None, now: datetime | None = None) -> Feed:
    """Active messages (no cursor), or every message issued or changed after ``since``."""
    actor.require("traffic:read")
    now = now or utcnow()
    query = select(GuidanceMessage)
    if since is None:
        query = query.where(GuidanceMessage.expires_at > now, GuidanceMessage.issued_at <= now)
        query = query.order_by(GuidanceMessage.issued_at, GuidanceMessage.id)
    else:
        # In the order of change, so a client that follows the cursor through pages misses nothing.
        query = query.where(or_(GuidanceMessage.updated_at > since, GuidanceMessage.issued_at > since))
        query = query.order_by(GuidanceMessage.updated_at, GuidanceMessage.id)
    rows = list(session.scalars(query.limit(FEED_LIMIT)))
    newest = max((m.updated_at for m in rows), default=since or now)
    return Feed(items=rows, cursor=_cursor(max(newest, since) if since else newest))
