"""The spatial index: deepest region, exact boundaries, agreement with brute force, staleness."""

from __future__ import annotations

import math
import random
from collections.abc import Iterator

import h3.api.basic_int as h3i
import numpy as np
import pytest
import shapely
from shapely.geometry import MultiPoint, Polygon, box
from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from cityos.core.actor import SYSTEM
from cityos.core.db import utcnow
from cityos.core.errors import NotFound
from cityos.places import cells as covering
from cityos.places import index, service
from cityos.places.models import Region, RegionCell
from tests.factories import World, add_region, make_actor, make_world

M_LON = 1 / (111_320 * math.cos(math.radians(30)))  # one metre of longitude at 30°N, in degrees
M_LAT = 1 / 111_320


@pytest.fixture
def world(session: Session) -> Iterator[World]:
    w = make_world(session)
    index.rebuild_cells(session)
    yield w
    index.invalidate()  # the next test's database differs (rolled back)


def _id(region: Region | None) -> int | None:
    return None if region is None else region.id


def test_locate_returns_the_deepest_region(session: Session, world: World) -> None:
    w = world
    assert _id(index.locate(session, 104.0125, 30.01225)) == w.building.id
    assert _id(index.locate(session, 104.015, 30.015)) == w.estate.id
    assert _id(index.locate(session, 104.03, 30.05)) == w.grid1.id
    assert _id(index.locate(session, 104.07, 30.05)) == w.grid2.id
    assert _id(index.locate(session, 104.15, 30.05)) == w.district_b.id
    assert index.locate(session, 105.0, 30.05) is None
    assert index.locate(session, 200.0, 30.05) is None


def test_points_either_side_of_a_shared_edge(session: Session, world: World) -> None:
    w = world
    for lat in (30.0003, 30.031, 30.0777, 30.0999):
        assert _id(index.locate(session, 104.05 - M_LON, lat)) == w.grid1.id
        assert _id(index.locate(session, 104.05 + M_LON, lat)) == w.grid2.id
        # Districts (coarse cells): the boundary at 104.1.
        assert _id(index.locate(session, 104.1 - M_LON, lat)) == w.grid2.id
        assert _id(index.locate(session, 104.1 + M_LON, lat)) == w.district_b.id
    # A point on the shared edge belongs to both; the lower id wins, as in brute force.
    on_edge = index.locate(session, 104.05, 30.05)
    assert _id(on_edge) == w.grid1.id == _id(index.brute_force_locate(session, 104.05, 30.05))


def test_slanted_shared_edge_one_metre_either_side(session: Session) -> None:
    """Two streets split by a long diagonal edge: 1 m either side of it, everywhere along it."""
    city = add_region(session, None, "city", "斜市", geometry=_gj(box(103.5, 29.5, 104.5, 30.5)))
    district = add_region(session, city, "district", "斜区", geometry=_gj(box(103.5, 29.5, 104.5, 30.5)))
    a, b = (103.52, 29.53), (104.47, 30.46)
    west = Polygon([(103.5, 29.5), a, b, (104.5, 30.5), (103.5, 30.5)])
    east = Polygon([(103.5, 29.5), (104.5, 29.5), (104.5, 30.5), b, a])
    s1 = add_region(session, district, "street", "西街道", geometry=_gj(west))
    s2 = add_region(session, district, "street", "东街道", geometry=_gj(east))
    index.rebuild_cells(session)
    try:
        dx, dy = b[0] - a[0], b[1] - a[1]
        length = math.hypot(dx / M_LON, dy / M_LAT)  # metres
        nx, ny = -dy / M_LAT / length * M_LON, dx / M_LON / length * M_LAT  # 1 m to the north-west
        for t in np.linspace(0.01, 0.99, 200):
            x, y = a[0] + t * dx, a[1] + t * dy
            assert _id(index.locate(session, x + nx, y + ny)) == s1.id
            assert _id(index.locate(session, x - nx, y - ny)) == s2.id
    finally:
        index.invalidate()


def test_index_agrees_with_brute_force_on_random_points(session: Session, world: World) -> None:
    rng = random.Random(5)
    points = [(rng.uniform(103.99, 104.21), rng.uniform(29.99, 30.11)) for _ in range(1500)]
    # Plus points crowded around the small shapes' edges.
    for _ in range(1500):
        points.append((rng.uniform(104.0095, 104.0135), rng.uniform(30.0095, 30.0205)))
    regions = list(session.scalars(select(Region)))
    fast = index.locate_many(session, points)
    for (lon, lat), found in zip(points[:400], fast[:400], strict=True):
        assert _id(found) == _id(index.brute_force_locate(regions, lon, lat))
    for (lon, lat), found in zip(points, fast, strict=True):
        assert _id(found) == _id(index.brute_force_locate(session, lon, lat))
        assert _id(found) == _id(index.locate(session, lon, lat))


def test_locate_within_a_subtree(session: Session, world: World) -> None:
    w = world
    assert index.locate(session, 104.07, 30.05, within=w.grid1.path) is None
    assert _id(index.locate(session, 104.0125, 30.01225, within=w.grid1.path)) == w.building.id
    worker = make_actor(session, roles=["grid_worker"], scope=w.grid1)
    assert service.locate(session, worker, lon=104.03, lat=30.05).id == w.grid1.id
    with pytest.raises(NotFound):
        service.locate(session, worker, lon=104.07, lat=30.05)
    with pytest.raises(NotFound):  # inside the community, but outside the worker's grid
        service.locate(session, worker, lon=104.15, lat=30.05)


def test_geometry_update_invalidates_the_index(session: Session, world: World) -> None:
    w = world
    assert _id(index.locate(session, 104.07, 30.05)) == w.grid2.id
    # grid2 shrinks to its eastern half; the point now falls to the community.
    service.update_region(session, SYSTEM, region_id=w.grid2.id, geometry=_gj(box(104.08, 30.0, 104.1, 30.1)))
    assert _id(index.locate(session, 104.07, 30.05)) == w.community.id
    assert _id(index.locate(session, 104.09, 30.05)) == w.grid2.id
    service.update_region(session, SYSTEM, region_id=w.grid2.id, geometry=None)
    assert _id(index.locate(session, 104.09, 30.05)) == w.community.id


def test_created_region_is_found_at_once(session: Session, world: World) -> None:
    w = world
    estate = service.create_region(
        session,
        SYSTEM,
        parent_id=w.grid2.id,
        level="estate",
        code="E-NEW",
        name="新建小区",
        geometry=_gj(box(104.08, 30.08, 104.085, 30.085)),
    )
    assert _id(index.locate(session, 104.082, 30.082)) == estate.id


def test_other_processes_writes_are_noticed(session: Session, world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """A write that did not go through this process (no version bump) is seen at the next check."""
    w = world
    assert _id(index.locate(session, 104.07, 30.05)) == w.grid2.id
    shape = box(104.065, 30.045, 104.075, 30.055)
    estate = add_region(session, w.grid2, "estate", "别处写的小区", geometry=_gj(shape))
    cover = covering.cover([shape], [covering.LEVEL_RESOLUTION["estate"]])
    session.execute(
        insert(RegionCell),
        [
            {"region_id": estate.id, "level": "estate", "cell": c, "full": f}
            for c, f in zip(cover.cell.tolist(), cover.full.tolist(), strict=True)
        ],
    )
    session.execute(update(Region).where(Region.id == estate.id).values(updated_at=utcnow()))
    monkeypatch.setattr(index, "CHECK_INTERVAL_S", 3600.0)
    assert _id(index.locate(session, 104.07, 30.05)) == w.grid2.id  # not checked yet
    monkeypatch.setattr(index, "CHECK_INTERVAL_S", 0.0)
    assert _id(index.locate(session, 104.07, 30.05)) == estate.id


def test_rebuild_fills_cells_and_derived_columns(session: Session, world: World) -> None:
    w = world
    session.refresh(w.grid1)
    assert w.grid1.h3_cell is not None
    assert w.grid1.lon is not None
    rows = session.execute(select(RegionCell.level, func.count()).group_by(RegionCell.level)).all()
    by_level = {str(level): int(n) for level, n in rows}
    assert set(by_level) == {"city", "district", "street", "community", "grid", "estate", "building"}
    full_grid_cells = session.scalar(
        select(func.count()).where(RegionCell.region_id == w.grid1.id, RegionCell.full.is_(True))
    )
    assert full_grid_cells
    assert full_grid_cells > 10
    again = index.rebuild_cells(session)
    assert again.cells == sum(by_level.values())
    assert again.regions == 11  # rooms and units have no shape


def test_cover_never_misses_a_cell_nor_claims_a_partial_one() -> None:
    rng = random.Random(11)
    shapes: list[Polygon] = []
    for size in (0.3, 0.03, 0.004, 0.0004):
        for _ in range(6):
            cx, cy = 104 + rng.uniform(-1, 1), 30 + rng.uniform(-1, 1)
            pts = [
                (cx + size * rng.uniform(0.2, 1) * math.cos(a), cy + size * rng.uniform(0.2, 1) * math.sin(a))
                for a in sorted(rng.uniform(0, 2 * math.pi) for _ in range(9))
            ]
            shapes.append(MultiPoint(pts).convex_hull)
    for level in ("city", "street", "grid", "estate", "building"):
        res = covering.resolutions_for([level] * len(shapes), shapes)
        result = covering.cover(shapes, res)
        cells: dict[tuple[int, int], bool] = {
            (o, c): f for o, c, f in zip(result.owner.tolist(), result.cell.tolist(), result.full.tolist(), strict=True)
        }
        for i, shape in enumerate(shapes):
            minx, miny, maxx, maxy = shape.bounds
            xs = np.r_[np.random.default_rng(i).uniform(minx, maxx, 300)]
            ys = np.r_[np.random.default_rng(i + 100).uniform(miny, maxy, 300)]
            edge = [shape.exterior.interpolate(rng.uniform(0, shape.exterior.length)) for _ in range(100)]
            xs = np.r_[xs, [p.x + rng.uniform(-1e-6, 1e-6) for p in edge]]
            ys = np.r_[ys, [p.y + rng.uniform(-1e-6, 1e-6) for p in edge]]
            inside = shapely.intersects_xy(shape, xs, ys)
            for x, y, ins in zip(xs.tolist(), ys.tolist(), inside.tolist(), strict=True):
                full = cells.get((i, h3i.latlng_to_cell(y, x, int(res[i]))))
                assert not ins or full is not None, (level, i, x, y)
                assert not full or ins, (level, i, x, y)


def test_long_thin_shapes_are_covered_by_the_polygon_fill() -> None:
    """A 50 km corridor 100 m wide is too long for a ring search around one point; H3 fills it."""
    corridor = Polygon([(104.0, 30.0), (104.5, 30.2), (104.5, 30.201), (104.0, 30.001)])
    res = covering.resolution_for("grid", corridor)
    result = covering.cover([corridor], [res])
    cells = dict(zip(result.cell.tolist(), result.full.tolist(), strict=True))
    rng = random.Random(3)
    for _ in range(3000):
        t = rng.random()
        x, y = 104.0 + 0.5 * t, 30.0 + 0.2 * t + rng.uniform(-0.0005, 0.0015)
        inside = bool(shapely.intersects_xy(corridor, x, y))
        full = cells.get(h3i.latlng_to_cell(y, x, res))
        assert not inside or full is not None
        assert not full or inside


def test_oversized_shapes_get_a_coarser_resolution() -> None:
    small = box(104.0, 30.0, 104.0004, 30.0002)
    huge = box(104.0, 30.0, 104.5, 30.5)  # a 'building' of 50 km x 55 km
    assert covering.resolution_for("building", small) == covering.LEVEL_RESOLUTION["building"]
    coarse = covering.resolution_for("building", huge)
    assert coarse < covering.LEVEL_RESOLUTION["building"]
    assert len(covering.cover([huge], [coarse]).cell) <= covering.MAX_CELLS_PER_REGION


def _gj(poly: Polygon) -> dict:
    return {"type": "Polygon", "coordinates": [[list(c) for c in poly.exterior.coords]]}
