"""The daily report (日报) of a campaign: one region's figures on one day, a table per level below
it down to the buildings, and the overdue help requests; ``export.py`` writes it as XLSX or PDF.
Built from the roll-up of ``service.py``; it flushes nothing and never commits."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityos.core.actor import Actor
from cityos.core.db import utcnow
from cityos.emergency.campaigns.models import Campaign
from cityos.emergency.command import sources, store
from cityos.emergency.command.service import (
    BUILDING_DEPTH,
    Crumb,
    HelpItem,
    RegionFigures,
    campaign_span,
    figures_of,
    get_campaign,
    many_counts,
    overdue_in,
    rollup,
)
from cityos.people import service as people
from cityos.places.models import LEVELS, Region

MAX_LEVEL_ROWS = 20_000
_UNORDERED = 1 << 40  # after every listed parent (the level above was too large to list)


@dataclass(frozen=True)
class LevelRow:
    parent: str
    region: RegionFigures


@dataclass(frozen=True)
class LevelTable:
    level: str
    rows: list[LevelRow]
    omitted: int = 0  # rows left out (a level with more than MAX_LEVEL_ROWS regions)


@dataclass
class DailyReport:
    """日报: a campaign's figures for one region and day, with a table per level below it."""

    campaign_id: int
    campaign_title: str
    template_key: str
    region: RegionFigures
    ancestors: list[Crumb]
    day: date
    generated_at: datetime
    levels: list[LevelTable] = field(default_factory=list)
    overdue: list[HelpItem] = field(default_factory=list)


def daily_report(
    session: Session, actor: Actor, *, campaign_id: int, region_id: int | None = None, day: date | None = None
) -> DailyReport:
    """The daily report of ``region_id`` on ``day``: its figures, one table per level below it down
    to the buildings (a level too large to list is left out and says so) and overdue help."""
    top = rollup(session, actor, campaign_id=campaign_id, region_id=region_id, day=day)
    campaign = get_campaign(session, actor, campaign_id)
    region = session.get(Region, top.region.id)
    assert region is not None
    now = utcnow()
    levels: list[LevelTable] = []
    lo, hi = campaign_span(campaign, region)
    help_paths = sources.help_rows(session, campaign.id, lo, hi)
    order: dict[int, int] = {region.id: 0}
    for level in LEVELS[region.depth + 1 : BUILDING_DEPTH + 1]:
        table = _level_table(session, campaign, region, level, top.day, help_paths, now, order)
        levels.append(table)
        order = {row.region.id: n for n, row in enumerate(table.rows)} if table.rows else {}
    return DailyReport(
        campaign_id=campaign.id,
        campaign_title=campaign.title,
        template_key=campaign.template_key,
        region=top.region,
        ancestors=top.ancestors,
        day=top.day,
        generated_at=now,
        levels=levels,
        overdue=overdue_in(session, campaign, region, limit=200),
    )


def _level_table(
    session: Session,
    campaign: Campaign,
    region: Region,
    level: str,
    day: date,
    help_paths: Sequence[tuple[str, str, Any]],
    now: datetime,
    parent_order: dict[int, int],
) -> LevelTable:
    """One level's rows, each under its parent in the order of the level above (then by code)."""
    lo, hi = campaign_span(campaign, region)
    query = select(Region).where(Region.path >= lo, Region.path < hi, Region.level == level)
    total = int(session.scalar(select(func.count()).select_from(query.subquery())) or 0)
    if total > MAX_LEVEL_ROWS:
        return LevelTable(level, [], omitted=total)
    regions = sorted(
        session.scalars(query),
        key=lambda r: (parent_order.get(r.parent_id or 0, _UNORDERED + (r.parent_id or 0)), r.code, r.id),
    )
    counts = many_counts(session, campaign, regions, day)
    ids = {r.id for r in regions}
    helps: dict[int, list[int]] = {r.id: [0, 0, 0, 0] for r in regions}
    for path, status, due_at in help_paths:
        opened = status in sources.OPEN_HELP
        for rid in store.path_ids(path):
            if rid in ids:
                t = helps[rid]
                t[0] += 1
                t[1] += int(opened)
                t[2] += int(opened and due_at < now)
                t[3] += int(status == "escalated")
    parents = people.region_names(session, [r.parent_id for r in regions])
    rows = [
        LevelRow(
            parents.get(r.parent_id, "") if r.parent_id else "",
            RegionFigures(
                r.id, r.name, r.level, r.path, figures_of(counts.get(r.id, {}), sources.HelpCounts(*helps[r.id]))
            ),
        )
        for r in regions
    ]
    return LevelTable(level, rows)
