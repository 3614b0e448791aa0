"""The materialised roll-up (see ``models``): building it from the records, refreshing it after a
report, reading a region and its children.

Why materialised: at the city level a campaign covers a million residents, and counting them,
their reaches and today's reports on every read takes a scan of a million index entries per
figure. Here a read is one row and its children's, whatever the level; a report costs a handful
of small counts over its building and one UPDATE of the building's ancestors (their totals move
by the building's difference), done by the ``ReportReceived`` handler right after the report
commits. Refreshes of one campaign take the lock of its ``RollupBuild`` row first, so on
PostgreSQL two reports of the same campaign never add their differences over each other.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, delete, func, insert, literal, select, update
from sqlalchemy.orm import Session, aliased

from cityos.core.actor import subtree_clause
from cityos.core.db import utcnow
from cityos.emergency.campaigns.models import Campaign, Reach, SuppliesDelivery, Task
from cityos.emergency.command import sources
from cityos.emergency.command.models import DAY_FIGURES, ROW_FIGURES, RollupBuild, RollupDay, RollupRow
from cityos.places.models import LEVEL_DEPTH, Region, RegionLevel

BUILDING_DEPTH = LEVEL_DEPTH[RegionLevel.BUILDING]
_BATCH = 5000


def path_ids(path: str) -> list[int]:
    return [int(p) for p in path.strip("/").split("/") if p]


def chain_paths(path: str) -> list[str]:
    """The paths of every region on ``path``'s chain, root first ('/1/', '/1/5/', …)."""
    ids = path_ids(path)
    return ["/" + "/".join(str(i) for i in ids[: n + 1]) + "/" for n in range(len(ids))]


def built(session: Session, campaign_id: int, *, lock: bool = False) -> RollupBuild | None:
    query = select(RollupBuild).where(RollupBuild.campaign_id == campaign_id)
    if lock:
        query = query.with_for_update()
    return session.scalar(query)


# --- building ---------------------------------------------------------------------------------------------


def _own_hi(region_path: Any, level: Any, depth: Any, scope_root: str) -> Any:
    """SQL: the own range's upper bound — the subtree for a building (or a scope root at or below
    building level), the path alone otherwise."""
    subtree = func.substr(region_path, 1, func.length(region_path) - 1).concat("0")
    leaf = (level == RegionLevel.BUILDING.value) | ((region_path == scope_root) & (depth >= BUILDING_DEPTH))
    return case((leaf, subtree), else_=region_path.concat(sources.EXACT))


def _insert_rows(session: Session, campaign: Campaign, where: Any) -> None:
    """Rows (zero counts) for the regions matched by ``where`` that the campaign has none for yet."""
    scope = campaign.scope_path
    existing = select(RollupRow.region_id).where(RollupRow.campaign_id == campaign.id)
    now = utcnow()
    chosen = select(
        literal(campaign.id),
        Region.id,
        Region.parent_id,
        Region.level,
        Region.depth,
        Region.path,
        _own_hi(Region.path, Region.level, Region.depth, scope),
        subtree_clause(Region.path, scope),
        *[literal(0) for _ in range(2 * len(ROW_FIGURES))],
        literal(now, RollupRow.refreshed_at.type),
    ).where(where, Region.id.not_in(existing))
    columns = ["campaign_id", "region_id", "parent_id", "level", "depth", "region_path", "own_hi", "in_scope"]
    for name in ROW_FIGURES:
        columns += [f"own_{name}", name]
    columns.append("refreshed_at")
    session.execute(insert(RollupRow).from_select(columns, chosen))


def _rows_where(campaign: Campaign) -> Any:
    """The regions a campaign has rows for: its scope root's ancestors, and its subtree down to
    the buildings (the scope root itself whatever its level)."""
    scope = campaign.scope_path
    ancestors = [p for p in chain_paths(scope) if p != scope]
    inside = and_(subtree_clause(Region.path, scope), (Region.depth <= BUILDING_DEPTH) | (Region.path == scope))
    return (Region.path.in_(ancestors) | inside) if ancestors else inside


def build(session: Session, campaign: Campaign) -> RollupBuild:
    """(Re)computes every row of the campaign from the records; returns its build record."""
    state = built(session, campaign.id, lock=True)
    if state is None:
        state = RollupBuild(campaign_id=campaign.id, scope_path=campaign.scope_path)
        session.add(state)
        session.flush()
    session.execute(delete(RollupDay).where(RollupDay.campaign_id == campaign.id))
    session.execute(delete(RollupRow).where(RollupRow.campaign_id == campaign.id))
    _insert_rows(session, campaign, _rows_where(campaign))
    targets = (
        select(RollupRow.id.label("key"), RollupRow.region_path.label("lo"), RollupRow.own_hi.label("hi"))
        .where(RollupRow.campaign_id == campaign.id, RollupRow.in_scope.is_(True))
        .subquery()
    )
    owns = sources.grouped_campaign_wide(session, campaign.id, targets)
    changes = [{"id": key, **{f"own_{k}": v for k, v in figs.items()}} for key, figs in owns.items()]
    for start in range(0, len(changes), _BATCH):
        session.execute(update(RollupRow), changes[start : start + _BATCH])
    _sum_up(session, campaign.id)
    _build_days(session, campaign, targets)
    now = utcnow()
    state.scope_path = campaign.scope_path
    state.built_at = now
    state.watermark = now
    # What the build has counted: the periodic catch-up starts after it.
    for model, mark in ((Reach, "reach_id"), (SuppliesDelivery, "supplies_id"), (Task, "task_id")):
        setattr(state, mark, int(session.scalar(select(func.max(model.id))) or 0))
    state.rows = int(session.scalar(select(func.count()).where(RollupRow.campaign_id == campaign.id)) or 0)
    session.flush()
    return state


def _sum_up(session: Session, campaign_id: int) -> None:
    """Totals = own + the children's totals, level by level from the deepest."""
    child = aliased(RollupRow)
    depths = sorted(
        {
            int(d)
            for d in session.scalars(select(RollupRow.depth).where(RollupRow.campaign_id == campaign_id).distinct())
        },
        reverse=True,
    )
    for depth in depths:
        values = {
            name: getattr(RollupRow, f"own_{name}")
            + select(func.coalesce(func.sum(getattr(child, name)), 0))
            .where(child.campaign_id == RollupRow.campaign_id, child.parent_id == RollupRow.region_id)
            .scalar_subquery()
            for name in ROW_FIGURES
        }
        session.execute(
            update(RollupRow)
            .where(RollupRow.campaign_id == campaign_id, RollupRow.depth == depth)
            .values(**values)
            .execution_options(synchronize_session=False)
        )


@dataclass(frozen=True)
class _Node:
    row_id: int
    region_id: int
    parent_id: int | None
    level: str
    path: str


def _nodes(session: Session, campaign_id: int) -> dict[int, _Node]:
    """Every row of the campaign by region id (for walking up the tree in memory)."""
    return {
        int(region_id): _Node(int(row_id), int(region_id), parent_id, str(level), str(path))
        for row_id, region_id, parent_id, level, path in session.execute(
            select(
                RollupRow.id, RollupRow.region_id, RollupRow.parent_id, RollupRow.level, RollupRow.region_path
            ).where(RollupRow.campaign_id == campaign_id)
        )
    }


def _build_days(session: Session, campaign: Campaign, targets: Any) -> None:
    owns = sources.grouped_daily(session, campaign.id, targets)
    if not owns:
        return
    nodes = _nodes(session, campaign.id)
    by_row = {n.row_id: n for n in nodes.values()}
    own: dict[tuple[int, date], dict[str, int]] = defaultdict(dict)
    total: dict[tuple[int, date], dict[str, int]] = defaultdict(lambda: dict.fromkeys(DAY_FIGURES, 0))
    for (row_id, day), figs in owns.items():
        node: _Node | None = by_row[int(row_id)]
        own[(node.region_id, day)] = figs  # type: ignore[union-attr]
        while node is not None:
            bucket = total[(node.region_id, day)]
            for name, value in figs.items():
                bucket[name] += value
            node = nodes.get(node.parent_id) if node.parent_id is not None else None
    rows = []
    for (region_id, day), figs in total.items():
        node = nodes[region_id]
        mine = own.get((region_id, day), {})
        rows.append(
            {
                "campaign_id": campaign.id,
                "day": day,
                "region_id": region_id,
                "parent_id": node.parent_id,
                "level": node.level,
                "region_path": node.path,
                **{name: figs[name] for name in DAY_FIGURES},
                **{f"own_{name}": mine.get(name, 0) for name in DAY_FIGURES},
            }
        )
    for start in range(0, len(rows), _BATCH):
        session.execute(insert(RollupDay), rows[start : start + _BATCH])


# --- refreshing after a change ------------------------------------------------------------------------------


def _leaf(session: Session, campaign: Campaign, path: str) -> tuple[RollupRow, list[RollupRow]] | None:
    """The row whose own range holds ``path`` and its ancestors' rows (root first); rows for new
    regions on the way are added first. None when the path lies outside the campaign."""
    if not path.startswith(campaign.scope_path):
        return None
    chain = chain_paths(path)
    rows = _chain_rows(session, campaign.id, chain)
    leaf = _deepest_holding(rows, path)
    if leaf is None:
        # A region created since the build (a new building): give it and its missing ancestors rows.
        _insert_rows(session, campaign, and_(Region.path.in_(chain), _rows_where(campaign)))
        rows = _chain_rows(session, campaign.id, chain)
        leaf = _deepest_holding(rows, path)
    if leaf is None:
        return None
    return leaf, [r for r in rows if leaf.region_path.startswith(r.region_path) and r.id != leaf.id]


def _chain_rows(session: Session, campaign_id: int, chain: Sequence[str]) -> list[RollupRow]:
    return list(
        session.scalars(
            select(RollupRow)
            .where(RollupRow.campaign_id == campaign_id, RollupRow.region_path.in_(list(chain)))
            .order_by(RollupRow.depth)
        )
    )


def _deepest_holding(rows: Sequence[RollupRow], path: str) -> RollupRow | None:
    held = [r for r in rows if r.in_scope and r.region_path <= path < r.own_hi]
    return held[-1] if held else None


def refresh(session: Session, campaign: Campaign, *, paths: Iterable[str], days: Iterable[date] = ()) -> int:
    """Recounts the rows that hold ``paths`` (and their day rows for ``days``) from the records and
    moves their ancestors' totals by the difference. Builds the campaign first when it has no rows.
    Returns how many rows were recounted."""
    state = built(session, campaign.id, lock=True)
    if state is None:
        build(session, campaign)
        return 0
    wanted_days = sorted(set(days))
    seen: set[int] = set()
    for path in sorted(set(paths)):
        found = _leaf(session, campaign, path)
        if found is None:
            continue
        leaf, ancestors = found
        if leaf.id in seen:
            continue
        seen.add(leaf.id)
        _refresh_row(session, campaign.id, leaf, ancestors)
        for day in wanted_days:
            _refresh_day(session, campaign.id, day, leaf, ancestors)
    session.flush()
    return len(seen)


def _refresh_row(session: Session, campaign_id: int, leaf: RollupRow, ancestors: Sequence[RollupRow]) -> None:
    span = sources.Span(leaf.id, leaf.region_path, leaf.own_hi)
    fresh = sources.campaign_wide(session, campaign_id, span)
    delta = {name: fresh[name] - getattr(leaf, f"own_{name}") for name in ROW_FIGURES}
    now = utcnow()
    for name in ROW_FIGURES:
        setattr(leaf, f"own_{name}", fresh[name])
    if not any(delta.values()):
        leaf.refreshed_at = now
        return
    session.flush()
    ids = [leaf.id, *[a.id for a in ancestors]]
    session.execute(
        update(RollupRow)
        .where(RollupRow.id.in_(ids))
        .values(
            refreshed_at=now, **{name: getattr(RollupRow, name) + delta[name] for name in ROW_FIGURES if delta[name]}
        )
        .execution_options(synchronize_session=False)
    )
    for row in (leaf, *ancestors):
        session.expire(row)


def _refresh_day(
    session: Session, campaign_id: int, day: date, leaf: RollupRow, ancestors: Sequence[RollupRow]
) -> None:
    chain = [*ancestors, leaf]
    existing = {
        r.region_id: r
        for r in session.scalars(
            select(RollupDay).where(
                RollupDay.campaign_id == campaign_id,
                RollupDay.day == day,
                RollupDay.region_id.in_([r.region_id for r in chain]),
            )
        )
    }
    fresh = sources.daily(session, campaign_id, day, sources.Span(leaf.id, leaf.region_path, leaf.own_hi))
    mine = existing.get(leaf.region_id)
    delta = {name: fresh[name] - (getattr(mine, f"own_{name}") if mine else 0) for name in DAY_FIGURES}
    if not any(delta.values()):
        return
    for row in chain:
        target = existing.get(row.region_id)
        if target is None:
            target = RollupDay(
                campaign_id=campaign_id,
                day=day,
                region_id=row.region_id,
                parent_id=row.parent_id,
                level=row.level,
                region_path=row.region_path,
                **dict.fromkeys(DAY_FIGURES, 0),
                **{f"own_{name}": 0 for name in DAY_FIGURES},
            )
            session.add(target)
        for name in DAY_FIGURES:
            setattr(target, name, getattr(target, name) + delta[name])
        if row.region_id == leaf.region_id:
            for name in DAY_FIGURES:
                setattr(target, f"own_{name}", fresh[name])


# --- reading ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Stored:
    """The stored figures of one region (campaign-wide and of the day)."""

    region_id: int
    counts: dict[str, int]
    refreshed_at: datetime


def read(session: Session, campaign_id: int, region_id: int, day: date) -> tuple[Stored | None, list[Stored]]:
    """The region's stored figures and its children's (those with rows), for ``day``."""
    row = session.scalar(
        select(RollupRow).where(RollupRow.campaign_id == campaign_id, RollupRow.region_id == region_id)
    )
    if row is None:
        return None, []
    kids = list(
        session.scalars(select(RollupRow).where(RollupRow.campaign_id == campaign_id, RollupRow.parent_id == region_id))
    )
    on_day = select(RollupDay).where(RollupDay.campaign_id == campaign_id, RollupDay.day == day)
    days = {d.region_id: d for d in session.scalars(on_day.where(RollupDay.parent_id == region_id))}
    mine = session.scalar(on_day.where(RollupDay.region_id == region_id))
    if mine is not None:
        days[mine.region_id] = mine
    return _stored(row, days.get(row.region_id)), [_stored(k, days.get(k.region_id)) for k in kids]


def read_level(
    session: Session, campaign_id: int, path: str, level: str, day: date, *, limit: int
) -> list[tuple[Stored, str]]:
    """The stored figures of every region of ``level`` under ``path`` (with their paths), by path."""
    rows = list(
        session.scalars(
            select(RollupRow)
            .where(RollupRow.campaign_id == campaign_id, subtree_clause(RollupRow.region_path, path))
            .where(RollupRow.level == level)
            .order_by(RollupRow.region_path)
            .limit(limit)
        )
    )
    days = {
        d.region_id: d
        for d in session.scalars(
            select(RollupDay).where(
                RollupDay.campaign_id == campaign_id,
                RollupDay.day == day,
                subtree_clause(RollupDay.region_path, path),
                RollupDay.level == level,
            )
        )
    }
    return [(_stored(r, days.get(r.region_id)), r.region_path) for r in rows]


def _stored(row: RollupRow, day: RollupDay | None) -> Stored:
    counts = {name: int(getattr(row, name)) for name in ROW_FIGURES}
    counts.update({name: int(getattr(day, name)) if day else 0 for name in DAY_FIGURES})
    return Stored(row.region_id, counts, row.refreshed_at)


def read_many(session: Session, campaign_id: int, region_ids: Sequence[int], day: date) -> dict[int, dict[str, int]]:
    """The stored figures of the given regions (those with rows), for ``day``."""
    out: dict[int, dict[str, int]] = {}
    ids = list(region_ids)
    for start in range(0, len(ids), _BATCH):
        chunk = ids[start : start + _BATCH]
        rows = session.scalars(
            select(RollupRow).where(RollupRow.campaign_id == campaign_id, RollupRow.region_id.in_(chunk))
        ).all()
        days = {
            d.region_id: d
            for d in session.scalars(
                select(RollupDay).where(
                    RollupDay.campaign_id == campaign_id, RollupDay.day == day, RollupDay.region_id.in_(chunk)
                )
            )
        }
        out.update({r.region_id: _stored(r, days.get(r.region_id)).counts for r in rows})
    return out


# --- the records that come without a bus event ----------------------------------------------------------------

SETTLE = timedelta(minutes=1)  # rows younger than this are read again next time (late commits)


def catch_up(session: Session, campaign: Campaign, state: RollupBuild) -> int:
    """Recounts the rows of the reaches, deliveries and tasks added since the last call, and of the
    tasks finished since then. Each source is read by primary-key range from the last id seen, so
    an idle campaign costs three index probes and one scan of its finished tasks' times."""
    now = utcnow()
    settled = now - SETTLE
    paths: set[str] = set()
    for model, stamp, mark in (
        (Reach, Reach.at, "reach_id"),
        (SuppliesDelivery, SuppliesDelivery.delivered_at, "supplies_id"),
        (Task, Task.created_at, "task_id"),
    ):
        last = int(getattr(state, mark))
        rows = session.execute(
            select(model.id, model.campaign_id, model.region_path, stamp).where(model.id > last).order_by(model.id)
        ).all()
        new_last, settling = last, False
        for row_id, campaign_id, path, at in rows:
            if campaign_id == campaign.id:
                paths.add(str(path))
            # The mark stops before the first young row, so it and the rows after it are read again.
            settling = settling or at is None or at >= settled
            if not settling:
                new_last = int(row_id)
        setattr(state, mark, new_last)
    since = state.watermark - SETTLE
    paths.update(
        str(p)
        for p in session.scalars(select(Task.region_path).where(Task.campaign_id == campaign.id, Task.done_at > since))
    )
    state.watermark = now
    if not paths:
        return 0
    return refresh(session, campaign, paths=paths)
