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

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, delete, func, insert, literal, select, update
from sqlalchemy.orm import Session

from cityos.core.actor import subtree_clause, subtree_range
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
    nodes = _nodes(session, campaign.id)
    holder = _Holder(nodes, campaign.scope_path)
    lo, hi = subtree_range(campaign.scope_path)
    _build_rows(session, nodes, _fresh(session, campaign.id, holder, lo, hi))
    _build_days(session, campaign, nodes, _fresh_days(session, campaign.id, holder, lo, hi))
    now = utcnow()
    state.scope_path = campaign.scope_path
    state.built_at = now
    state.watermark = now
    state.reconcile_path = ""
    # What the build has counted: the periodic catch-up starts after it.
    for model, mark in ((Reach, "reach_id"), (SuppliesDelivery, "supplies_id"), (Task, "task_id")):
        setattr(state, mark, int(session.scalar(select(func.max(model.id))) or 0))
    state.rows = int(session.scalar(select(func.count()).where(RollupRow.campaign_id == campaign.id)) or 0)
    session.flush()
    return state


@dataclass(frozen=True)
class _Node:
    row_id: int
    region_id: int
    parent_id: int | None
    level: str
    path: str
    subtree: bool  # its own range is its subtree (a building), not its path alone
    in_scope: bool


def _nodes(session: Session, campaign_id: int) -> dict[int, _Node]:
    """Every row of the campaign by region id (for walking up the tree in memory)."""
    rows = session.execute(
        select(
            RollupRow.id,
            RollupRow.region_id,
            RollupRow.parent_id,
            RollupRow.level,
            RollupRow.region_path,
            RollupRow.own_hi,
            RollupRow.in_scope,
        ).where(RollupRow.campaign_id == campaign_id)
    )
    return {
        int(region_id): _Node(
            int(row_id), int(region_id), parent_id, str(level), str(path), own_hi != path + sources.EXACT, bool(scope)
        )
        for row_id, region_id, parent_id, level, path, own_hi, scope in rows
    }


class _Holder:
    """Finds the row whose own range holds a path, in memory (the records' paths are mostly rooms:
    the answer is cached per parent path, so a building is looked up once per unit)."""

    def __init__(self, nodes: dict[int, _Node], scope_path: str) -> None:
        self.by_path = {n.path: n for n in nodes.values()}
        self.scope_path = scope_path
        self._below: dict[str, _Node | None] = {}

    def find(self, path: str) -> _Node | None:
        if not path.startswith(self.scope_path):
            return None
        node = self.by_path.get(path)
        if node is not None:
            return node if node.in_scope else None
        parent = path[: path.rstrip("/").rfind("/") + 1]
        if parent not in self._below:
            self._below[parent] = self._deepest_subtree(parent)
        return self._below[parent]

    def _deepest_subtree(self, path: str) -> _Node | None:
        """The row holding everything *below* ``path``: the nearest subtree row on its chain."""
        for prefix in reversed(chain_paths(path)):
            node = self.by_path.get(prefix)
            if node is not None:
                return node if node.subtree and node.in_scope else None
        return None


def _walk_up(nodes: dict[int, _Node], node: _Node) -> Iterator[_Node]:
    current: _Node | None = node
    while current is not None:
        yield current
        current = nodes.get(current.parent_id) if current.parent_id is not None else None


_ROW_INDEX = {name: i for i, name in enumerate(ROW_FIGURES)}
_DAY_INDEX = {name: i for i, name in enumerate(DAY_FIGURES)}


def _fresh(session: Session, campaign_id: int, holder: _Holder, lo: str, hi: str) -> dict[int, list[int]]:
    """Own campaign-wide counts (in ``ROW_FIGURES`` order) of the rows holding the records in ``[lo, hi)``."""
    own: dict[int, list[int]] = {}
    width = len(ROW_FIGURES)
    for path, figs in sources.by_path(session, campaign_id, lo, hi):
        node = holder.find(path)
        if node is None:
            continue
        values = own.get(node.region_id)
        if values is None:
            values = own[node.region_id] = [0] * width
        for name, value in figs.items():
            values[_ROW_INDEX[name]] += value
    return own


def _fresh_days(
    session: Session, campaign_id: int, holder: _Holder, lo: str, hi: str, days: Sequence[date] | None = None
) -> dict[tuple[int, date], list[int]]:
    """Own daily counts (in ``DAY_FIGURES`` order) of the rows holding the reports in ``[lo, hi)``."""
    own: dict[tuple[int, date], list[int]] = {}
    width = len(DAY_FIGURES)
    for path, day, figs in sources.by_path_and_day(session, campaign_id, lo, hi, days=days):
        node = holder.find(path)
        if node is None:
            continue
        key = (node.region_id, day)
        values = own.get(key)
        if values is None:
            values = own[key] = [0] * width
        for name, value in figs.items():
            values[_DAY_INDEX[name]] += value
    return own


def _totals(nodes: dict[int, _Node], own: dict[Any, list[int]], region_of: Any) -> dict[Any, list[int]]:
    """Own counts added up the tree: every row's total is its own plus its descendants'."""
    total: dict[Any, list[int]] = {}
    for key, values in own.items():
        region_id, rest = region_of(key)
        for node in _walk_up(nodes, nodes[region_id]):
            target = (node.region_id, *rest) if rest else node.region_id
            bucket = total.get(target)
            if bucket is None:
                total[target] = list(values)
            else:
                for i, v in enumerate(values):
                    bucket[i] += v
    return total


def _build_rows(session: Session, nodes: dict[int, _Node], own: dict[int, list[int]]) -> None:
    total = _totals(nodes, own, lambda key: (key, ()))
    zero = [0] * len(ROW_FIGURES)
    changes = []
    for region_id, figs in total.items():
        mine = own.get(region_id, zero)
        row: dict[str, int] = {"id": nodes[region_id].row_id}
        for i, name in enumerate(ROW_FIGURES):
            row[f"own_{name}"] = mine[i]
            row[name] = figs[i]
        changes.append(row)
    for start in range(0, len(changes), _BATCH):
        session.execute(update(RollupRow), changes[start : start + _BATCH])


def _build_days(
    session: Session, campaign: Campaign, nodes: dict[int, _Node], own: dict[tuple[int, date], list[int]]
) -> None:
    total = _totals(nodes, own, lambda key: (key[0], (key[1],)))
    zero = [0] * len(DAY_FIGURES)
    rows = []
    for (region_id, day), figs in total.items():
        node = nodes[region_id]
        mine = own.get((region_id, day), zero)
        row: dict[str, Any] = {
            "campaign_id": campaign.id,
            "day": day,
            "region_id": region_id,
            "parent_id": node.parent_id,
            "level": node.level,
            "region_path": node.path,
        }
        for i, name in enumerate(DAY_FIGURES):
            row[name] = figs[i]
            row[f"own_{name}"] = mine[i]
        rows.append(row)
    for start in range(0, len(rows), _BATCH):
        session.execute(insert(RollupDay), rows[start : start + _BATCH])


# --- reconciling: the rows checked against the records, a slice a minute --------------------------------

RECONCILE_ROWS = 2000  # rows checked per call: a city's 150,000 in a little over an hour


def reconcile(
    session: Session, campaign: Campaign, state: RollupBuild, *, days: Sequence[date], limit: int = RECONCILE_ROWS
) -> int:
    """Checks the next ``limit`` rows (in path order, from where the last call stopped) against the
    records and recounts those that differ — people who moved, reopened tasks, anything an event
    did not bring. Reads the slice only; writes only what differs. Returns the rows recounted."""
    rows = list(
        session.execute(
            select(
                RollupRow.region_id,
                RollupRow.region_path,
                RollupRow.own_hi,
                *[getattr(RollupRow, f"own_{n}") for n in ROW_FIGURES],
            )
            .where(
                RollupRow.campaign_id == campaign.id,
                RollupRow.in_scope.is_(True),
                RollupRow.region_path > state.reconcile_path,
            )
            .order_by(RollupRow.region_path)
            .limit(limit)
        )
    )
    if not rows:
        state.reconcile_path = ""
        state.built_at = utcnow()  # a whole pass is done
        return 0
    nodes = {int(r[0]): _Node(0, int(r[0]), None, "", str(r[1]), r[2] != r[1] + sources.EXACT, True) for r in rows}
    holder = _Holder(nodes, campaign.scope_path)
    lo, hi = str(rows[0][1]), max(str(r[2]) for r in rows)
    fresh = _fresh(session, campaign.id, holder, lo, hi)
    zero = [0] * len(ROW_FIGURES)
    differ = {int(r[0]) for r in rows if list(r[3:]) != fresh.get(int(r[0]), zero)}
    stored_days = {
        (d.region_id, d.day): [getattr(d, f"own_{n}") for n in DAY_FIGURES]
        for d in session.scalars(
            select(RollupDay).where(
                RollupDay.campaign_id == campaign.id,
                RollupDay.day.in_(list(days)),
                RollupDay.region_path >= lo,
                RollupDay.region_path < hi,
            )
        )
        if d.region_id in nodes
    }
    fresh_days = _fresh_days(session, campaign.id, holder, lo, hi, days)
    day_zero = [0] * len(DAY_FIGURES)
    stale_days: set[date] = set()
    for key in set(stored_days) | set(fresh_days):
        if stored_days.get(key, day_zero) != fresh_days.get(key, day_zero):
            differ.add(key[0])
            stale_days.add(key[1])
    state.reconcile_path = str(rows[-1][1])
    if not differ:
        return 0
    return refresh(session, campaign, paths=[nodes[i].path for i in differ], days=sorted(stale_days))


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
