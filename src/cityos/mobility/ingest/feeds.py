"""The read side of the feeds for operators (traffic:manage): the quarantine and hourly counts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from cityos.core.actor import Actor
from cityos.core.db import utcnow
from cityos.core.errors import FieldError, Invalid
from cityos.core.i18n import N_
from cityos.core.pagination import PageParams, fetch_page

from .models import SOURCES, TrafficFeedStat, TrafficQuarantine
from .records import REASONS

MAX_HOURS = 24 * 31


def _check_filters(source: str | None, reason: str | None) -> None:
    errors = []
    if source and source not in SOURCES:
        errors.append(FieldError("source", N_("Use one of: {choices}."), {"choices": ", ".join(SOURCES)}))
    if reason and reason not in REASONS:
        errors.append(FieldError("reason", N_("Use one of: {choices}."), {"choices": ", ".join(REASONS)}))
    if errors:
        raise Invalid(details=errors)


def quarantine(
    session: Session,
    actor: Actor,
    *,
    params: PageParams,
    source: str | None = None,
    reason: str | None = None,
) -> tuple[list[TrafficQuarantine], int | None]:
    """Quarantined records, newest first, optionally of one source and one reason."""
    actor.require("traffic:manage")
    _check_filters(source, reason)
    q = select(TrafficQuarantine)
    if source:
        q = q.where(TrafficQuarantine.source == source)
    if reason:
        q = q.where(TrafficQuarantine.reason == reason)
    q = q.order_by(TrafficQuarantine.received_at.desc(), TrafficQuarantine.id.desc())
    return fetch_page(session, q, params)


@dataclass
class HourStat:
    source: str
    hour: datetime  # start of the hour, UTC
    accepted: int = 0
    duplicates: int = 0
    quarantined: int = 0
    reasons: dict[str, int] = field(default_factory=dict)


def stats(session: Session, actor: Actor, *, hours: int = 24, now: datetime | None = None) -> list[HourStat]:
    """Per source and hour of the last ``hours`` (the current one included): what was received."""
    actor.require("traffic:manage")
    if not 1 <= hours <= MAX_HOURS:
        raise Invalid(details=[FieldError("hours", N_("Between 1 and {high}."), {"high": MAX_HOURS})])
    top = (now or utcnow()).replace(minute=0, second=0, microsecond=0)
    since = top - timedelta(hours=hours - 1)
    table: dict[tuple[str, datetime], HourStat] = {}
    for h in range(hours):
        at = since + timedelta(hours=h)
        for source in SOURCES:
            table[(source, at)] = HourStat(source=source, hour=at)
    rows = session.execute(
        select(TrafficFeedStat.source, TrafficFeedStat.hour, TrafficFeedStat.outcome, TrafficFeedStat.n).where(
            TrafficFeedStat.hour >= since, TrafficFeedStat.hour <= top
        )
    )
    for source, hour, outcome, n in rows:
        stat = table.get((source, hour))
        if stat is None:
            continue
        if outcome == "accepted":
            stat.accepted += n
        elif outcome == "duplicate":
            stat.duplicates += n
        else:
            stat.quarantined += n
            stat.reasons[outcome] = stat.reasons.get(outcome, 0) + n
    return sorted(table.values(), key=lambda s: (SOURCES.index(s.source), s.hour))
