"""The spatial index: ``locate(lon, lat)`` -> the deepest region whose geometry contains the point.

Two halves:

* ``region_cell`` rows, written with the geometry: for every region with a shape, the H3 cells
  (at its level's resolution) that overlap it, ``full`` when the cell lies wholly inside, so a
  point in a full cell needs no polygon test. ``rebuild_cells`` recomputes them all after bulk
  imports; ``write_cells`` does one region on create/update. Which cells cover a shape is
  ``cells.py``'s work.
* an in-process index per database, loaded lazily from those rows and the region shapes: per
  (level, resolution) a sorted array of cells with the region each belongs to. A lookup
  hashes the point into one cell per level, deepest level first, and tests the few candidate
  polygons exactly (``shapely.intersects_xy``). The index reloads when this process writes
  geometry (a module version) and, at most every ``CHECK_INTERVAL_S``, when the database
  says another process did (max ``region_cell.id`` and max ``region.updated_at``, both
  index lookups).

Points on a boundary belong to the region (closed polygons); between siblings at the same
level the lowest id wins, both here and in ``brute_force_locate``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import h3.api.basic_int as h3i
import numpy as np
import numpy.typing as npt
import shapely
import structlog
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Table, Text, bindparam, cast, delete, func, insert, select, update
from sqlalchemy.orm import Session

from cityos.places import geometry as geo
from cityos.places.cells import BoolArray, IntArray, cell_resolution, cover, resolutions_for
from cityos.places.models import LEVEL_DEPTH, Region, RegionCell, RegionLevel

log = structlog.get_logger(__name__)

CHECK_INTERVAL_S = 2.0  # how often a loaded index asks the database whether it is stale

_BATCH = 20_000  # regions covered per batch in rebuild_cells
Progress = Callable[[int, int], None]

# --- writing region_cell rows ----------------------------------------------------------------


def write_cells(session: Session, regions: Sequence[Region]) -> int:
    """Recompute the cells of these regions (after their geometry changed); returns the row count.

    New rows are inserted before the old ones are deleted, so the table's max id always grows
    and other processes see the change.
    """
    if not regions:
        return 0
    ids = [r.id for r in regions]
    old_max = session.scalar(select(func.max(RegionCell.id)).where(RegionCell.region_id.in_(ids)))
    shaped = [(r, geo.parse(r.geometry)) for r in regions if r.geometry]
    rows: list[dict[str, Any]] = []
    if shaped:
        levels = [r.level for r, _ in shaped]
        geoms = [g for _, g in shaped]
        result = cover(geoms, resolutions_for(levels, geoms))
        for owner, cell, full in zip(result.owner.tolist(), result.cell.tolist(), result.full.tolist(), strict=True):
            region = shaped[owner][0]
            rows.append({"region_id": region.id, "level": region.level, "cell": cell, "full": full})
    if rows:
        session.execute(insert(RegionCell), rows)
    if old_max is not None:
        session.execute(delete(RegionCell).where(RegionCell.region_id.in_(ids), RegionCell.id <= old_max))
    invalidate()
    return len(rows)


@dataclass
class RebuildResult:
    regions: int
    cells: int
    seconds: float


def rebuild_cells(session: Session, progress: Progress | None = None) -> RebuildResult:
    """Recompute every region's cells and derived columns (bbox, point, h3_cell) from its geometry.

    Used after bulk imports that write regions directly. Runs in the caller's transaction.
    """
    started = time.perf_counter()
    session.flush()  # the rows are read and written with Core below
    conn = session.connection()
    rows = conn.execute(
        select(
            Region.id,
            Region.level,
            cast(Region.geometry, Text),
            Region.min_lon,
            Region.min_lat,
            Region.max_lon,
            Region.max_lat,
            Region.lon,
            Region.lat,
            Region.h3_cell,
        )
        .where(Region.geometry.is_not(None))
        .order_by(Region.id)
    ).all()
    geoms = shapely.from_geojson(np.asarray([r[2] for r in rows], dtype=object), on_invalid="ignore")
    keep: list[int] = []
    for i, g in enumerate(geoms):
        if g is None or g.is_empty:
            continue
        if not g.is_valid:
            g = _polygonal(shapely.make_valid(g))
            geoms[i] = g
        if g is not None and isinstance(g, shapely.Polygon | shapely.MultiPolygon):
            keep.append(i)
    total = len(keep)
    if progress:
        progress(0, total)
    old_max = int(conn.execute(select(func.max(RegionCell.id))).scalar() or 0)
    conn.execute(delete(RegionCell))
    next_id = old_max + 1
    written = 0
    changed: list[dict[str, Any]] = []
    for start in range(0, total, _BATCH):
        batch = keep[start : start + _BATCH]
        bgeoms = [geoms[i] for i in batch]
        levels = [rows[i][1] for i in batch]
        result = cover(bgeoms, resolutions_for(levels, bgeoms))
        region_ids = np.asarray([rows[i][0] for i in batch], dtype=np.int64)[result.owner]
        level_names = np.asarray(levels, dtype=object)[result.owner]
        count = len(result.cell)
        cell_ids = np.arange(next_id, next_id + count, dtype=np.int64)
        _insert_cells(session, cell_ids, region_ids, level_names, result.cell, result.full)
        next_id += count
        written += count
        changed.extend(_derived_changes([rows[i] for i in batch], bgeoms))
        if progress:
            progress(min(start + _BATCH, total), total)
    if changed:
        table = _table(Region)
        stmt = (
            update(table)
            .where(table.c.id == bindparam("b_id"))
            .values({c: bindparam(c) for c in geo.EMPTY_COLUMNS})
            .execution_options(synchronize_session=False)
        )
        conn.execute(stmt, changed)
    if conn.dialect.name == "postgresql" and written:
        conn.exec_driver_sql(
            "SELECT setval(pg_get_serial_sequence('region_cell', 'id'), (SELECT MAX(id) FROM region_cell))"
        )
    session.expire_all()
    invalidate()
    seconds = round(time.perf_counter() - started, 2)
    log.info("places.cells_rebuilt", regions=total, cells=written, seconds=seconds)
    return RebuildResult(regions=total, cells=written, seconds=seconds)


def _table(model: type[Region] | type[RegionCell]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


def _polygonal(geom: BaseGeometry) -> BaseGeometry | None:
    polys = [p for p in shapely.get_parts(geom) if isinstance(p, shapely.Polygon) and not p.is_empty]
    if not polys:
        return None
    return polys[0] if len(polys) == 1 else shapely.MultiPolygon(polys)


def _derived_changes(rows: Sequence[Any], geoms: Sequence[BaseGeometry]) -> list[dict[str, Any]]:
    out = []
    for row, g in zip(rows, geoms, strict=True):
        want = geo.derived_columns(g)
        have = dict(zip(geo.EMPTY_COLUMNS, (row[5], row[6], row[3], row[4], row[7], row[8], row[9]), strict=True))
        if any(_differs(have[k], want[k]) for k in want):
            out.append({"b_id": row[0], **want})
    return out


def _differs(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return abs(a - b) > 1e-9
    return bool(a != b)


def _insert_cells(
    session: Session,
    ids: IntArray,
    region_ids: IntArray,
    levels: npt.NDArray[Any],
    cells: IntArray,
    full: BoolArray,
) -> None:
    if not len(ids):
        return
    conn = session.connection()
    data = list(zip(ids.tolist(), region_ids.tolist(), levels.tolist(), cells.tolist(), full.tolist(), strict=True))
    if conn.dialect.name == "postgresql":
        raw: Any = conn.connection.dbapi_connection
        with raw.cursor() as cur, cur.copy('COPY region_cell (id, region_id, level, cell, "full") FROM STDIN') as copy:
            for row in data:
                copy.write_row(row)
    else:
        sql = 'INSERT INTO region_cell (id, region_id, level, cell, "full") VALUES (?, ?, ?, ?, ?)'
        conn.exec_driver_sql(sql, data)


# --- the in-process index ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Layer:
    depth: int
    res: int
    cells: IntArray  # sorted; equal cells adjacent, their regions in id order
    slots: npt.NDArray[np.int32]
    full: BoolArray


class SpatialIndex:
    """Regions with geometry (by slot, in id order) and their cells per (depth, resolution)."""

    def __init__(
        self,
        ids: IntArray,
        depths: IntArray,
        paths: list[str],
        geoms: npt.NDArray[Any],
        layers: list[_Layer],
        signature: tuple[Any, ...],
    ) -> None:
        self.ids = ids
        self.depths = depths
        self.paths = paths
        self.geoms = geoms
        self.signature = signature
        self._id_list: list[int] = ids.tolist()
        # Deepest first; layers of one depth are searched together so the lowest id wins.
        by_depth: dict[int, list[_Layer]] = {}
        for layer in layers:
            by_depth.setdefault(layer.depth, []).append(layer)
        self.groups: list[tuple[int, list[_Layer]]] = sorted(by_depth.items(), reverse=True)
        self._by_depth_slots = {d: np.flatnonzero(depths == d) for d in np.unique(depths).tolist()}
        # GEOS builds a prepared geometry's point index lazily and not thread-safely; polygon
        # tests (microseconds) run one at a time.
        self._exact = threading.Lock()

    @property
    def size(self) -> int:
        return len(self._id_list)

    @property
    def cell_count(self) -> int:
        return sum(len(layer.cells) for _, group in self.groups for layer in group)

    def locate_id(self, lon: float, lat: float, within: str | None = None) -> int | None:
        if not (-180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0):
            return None
        for _depth, group in self.groups:
            best: int | None = None
            for layer in group:
                slot = self._hit(layer, lon, lat, within)
                if slot is not None and (best is None or slot < best):
                    best = slot
            if best is not None:
                return self._id_list[best]
        return None

    def _hit(self, layer: _Layer, lon: float, lat: float, within: str | None) -> int | None:
        cell = h3i.latlng_to_cell(lat, lon, layer.res)
        cells = layer.cells
        i = int(cells.searchsorted(cell))
        n = len(cells)
        while i < n and cells[i] == cell:
            slot = int(layer.slots[i])
            if within is None or self.paths[slot].startswith(within):
                if layer.full[i]:
                    return slot
                with self._exact:
                    inside = shapely.intersects_xy(self.geoms[slot], lon, lat)
                if inside:
                    return slot
            i += 1
        return None

    def brute_force_id(self, lon: float, lat: float, within: str | None = None) -> int | None:
        """Test every polygon, deepest level first (the baseline the index is measured against)."""
        for depth in sorted(self._by_depth_slots, reverse=True):
            slots = self._by_depth_slots[depth]
            with self._exact:
                inside = shapely.intersects_xy(self.geoms[slots], lon, lat)
            hits: list[int] = slots[inside].tolist()
            for slot in hits:
                if within is None or self.paths[slot].startswith(within):
                    return self._id_list[slot]
        return None


@dataclass
class _Cached:
    index: SpatialIndex
    version: int
    checked_at: float


_lock = threading.Lock()
_version = 0
_cache: dict[str, _Cached] = {}


def invalidate() -> None:
    """Mark every loaded index stale (this process wrote geometry or cells)."""
    global _version
    with _lock:
        _version += 1


def _db_key(session: Session) -> str:
    return session.get_bind().engine.url.render_as_string(hide_password=True)


def _signature(session: Session) -> tuple[Any, ...]:
    cells = session.scalar(select(func.max(RegionCell.id)))
    updated = session.scalar(select(func.max(Region.updated_at)))
    return (cells, updated)


def current(session: Session) -> SpatialIndex:
    """The loaded index for this session's database, reloaded when stale."""
    key = _db_key(session)
    entry = _cache.get(key)
    now = time.monotonic()
    if entry is not None and entry.version == _version and now - entry.checked_at < CHECK_INTERVAL_S:
        return entry.index
    with _lock:
        version = _version
        entry = _cache.get(key)
        signature = _signature(session)
        if entry is not None and entry.version == version and entry.index.signature == signature:
            entry.checked_at = time.monotonic()
            return entry.index
        index = _load(session, signature)
        _cache[key] = _Cached(index, version, time.monotonic())
        return index


def _load(session: Session, signature: tuple[Any, ...]) -> SpatialIndex:
    started = time.perf_counter()
    conn = session.connection()
    rows = conn.execute(
        select(Region.id, Region.level, Region.path, cast(Region.geometry, Text))
        .where(Region.geometry.is_not(None))
        .order_by(Region.id)
    ).all()
    geoms = shapely.from_geojson(np.asarray([r[3] for r in rows], dtype=object), on_invalid="ignore")
    # Only (Multi)Polygons take part (type ids 3 and 6); JSON nulls and other shapes are skipped.
    ok = np.isin(shapely.get_type_id(geoms), (3, 6)) & ~shapely.is_empty(geoms) if len(rows) else np.zeros(0, bool)
    ids = np.asarray([r[0] for r in rows], dtype=np.int64)[ok]
    depths = np.asarray([LEVEL_DEPTH.get(RegionLevel(r[1]), 99) for r in rows], dtype=np.int64)[ok]
    paths = [r[2] for r, keep in zip(rows, ok.tolist(), strict=True) if keep]
    geoms = geoms[ok]
    # Big shapes are prepared (a point test in a few µs); small ones are fast as they are.
    big = np.flatnonzero(shapely.get_num_coordinates(geoms) > 24)
    if len(big):
        shapely.prepare(geoms[big])

    # Straight from the DB-API cursor: a million SQLAlchemy rows would cost seconds.
    raw: Any = conn.connection.dbapi_connection
    cursor = raw.cursor()
    try:
        cursor.execute('SELECT region_id, cell, "full" FROM region_cell')
        cell_rows = cursor.fetchall()
    finally:
        cursor.close()
    layers: list[_Layer] = []
    if cell_rows and len(ids):
        data = np.array(cell_rows, dtype=np.int64)
        region_ids, cells, full = data[:, 0], data[:, 1], data[:, 2].astype(bool)
        slots = np.searchsorted(ids, region_ids)
        slots = np.minimum(slots, len(ids) - 1)
        known = ids[slots] == region_ids
        slots, cells, full = slots[known], cells[known], full[known]
        depth_of = depths[slots]
        res_of = cell_resolution(cells)
        order = np.lexsort((slots, cells, res_of, depth_of))
        slots, cells, full, depth_of, res_of = slots[order], cells[order], full[order], depth_of[order], res_of[order]
        keys = depth_of * 16 + res_of
        starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
        ends = np.r_[starts[1:], len(keys)]
        for s, e in zip(starts.tolist(), ends.tolist(), strict=True):
            layers.append(
                _Layer(
                    depth=int(depth_of[s]),
                    res=int(res_of[s]),
                    cells=np.ascontiguousarray(cells[s:e]),
                    slots=slots[s:e].astype(np.int32),
                    full=np.ascontiguousarray(full[s:e]),
                )
            )
    index = SpatialIndex(ids, depths, paths, geoms, layers, signature)
    log.info(
        "places.index_loaded",
        regions=index.size,
        cells=index.cell_count,
        seconds=round(time.perf_counter() - started, 2),
    )
    return index


# --- lookups -----------------------------------------------------------------------------------------


def locate(session: Session, lon: float, lat: float, *, within: str | None = None) -> Region | None:
    """The deepest region whose geometry contains (lon, lat); ``within`` limits it to a subtree path."""
    for _attempt in range(2):
        region_id = current(session).locate_id(lon, lat, within)
        if region_id is None:
            return None
        region = session.get(Region, region_id)
        if region is not None:
            return region
        invalidate()  # the region is gone: the index is stale
    return None


def locate_many(
    session: Session, points: Iterable[tuple[float, float]], *, within: str | None = None
) -> list[Region | None]:
    """``locate`` for many (lon, lat) points, fetching the regions in a few queries."""
    index = current(session)
    found = [index.locate_id(lon, lat, within) for lon, lat in points]
    wanted = sorted({i for i in found if i is not None})
    regions: dict[int, Region] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        regions.update((r.id, r) for r in session.scalars(select(Region).where(Region.id.in_(chunk))))
    return [regions.get(i) if i is not None else None for i in found]


def brute_force_locate(
    regions: Session | Iterable[Region], lon: float, lat: float, *, within: str | None = None
) -> Region | None:
    """Baseline for the benchmark and the tests: test every region polygon, no index.

    Given a session it tests every polygon of the database (the shapes the index has loaded,
    so the baseline pays no parsing); given regions it tests those.
    """
    if isinstance(regions, Session):
        region_id = current(regions).brute_force_id(lon, lat, within)
        return None if region_id is None else regions.get(Region, region_id)
    best: Region | None = None
    for region in regions:
        if not region.geometry or (within is not None and not region.path.startswith(within)):
            continue
        if not shapely.intersects_xy(geo.parse(region.geometry), lon, lat):
            continue
        key = (-LEVEL_DEPTH[RegionLevel(region.level)], region.id)
        if best is None or key < (-LEVEL_DEPTH[RegionLevel(best.level)], best.id):
            best = region
    return best
