"""Covering region shapes with H3 cells (the first half of the spatial index, ``index.py``):
which cells of a level's resolution overlap a shape, and which lie wholly inside it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import h3
import h3.api.basic_int as h3i
import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry.base import BaseGeometry

from cityos.places import geometry as geo
from cityos.places.models import RegionLevel

# H3 resolution of each level's cells (average hexagon edge: 6 ≈ 3.2 km, 7 ≈ 1.2 km,
# 8 ≈ 460 m, 9 ≈ 174 m, 10 ≈ 66 m, 11 ≈ 25 m, 12 ≈ 9 m).
LEVEL_RESOLUTION: dict[str, int] = {
    RegionLevel.CITY: 6,
    RegionLevel.DISTRICT: 7,
    RegionLevel.STREET: 8,
    RegionLevel.COMMUNITY: 9,
    RegionLevel.GRID: 9,
    RegionLevel.ESTATE: 10,
    RegionLevel.BUILDING: 11,
    RegionLevel.UNIT: 12,
    RegionLevel.ROOM: 12,
}
MAX_CELLS_PER_REGION = 20_000  # a region that would need more uses a coarser resolution
# H3 cells have geodesic edges; the cell polygons tested here are their vertices joined by
# straight lon/lat lines. The gap is < 0.3 m at resolution 6 and < 1 mm from 9 on; a cell is
# kept or called full with this margin (degrees) so the gap never changes an answer.
_MARGIN_DEG: dict[int, float] = dict.fromkeys(range(7), 1e-5) | {7: 2e-6, 8: 2e-7}
_DISK_MAX_K = 60  # beyond this many rings, ask H3 to fill the polygon instead
_M_PER_DEG = 111_320.0
# A cell's vertices lie within 1.10 average edge lengths of its centre anywhere on the globe
# (measured); the pre-filter allows 1.5.
_CIRCUMRADIUS = 1.5

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


@dataclass
class Cover:
    """Cells of several shapes: ``owner[i]`` is the index of the shape that ``cell[i]`` overlaps."""

    owner: IntArray
    cell: IntArray
    full: BoolArray


def resolution_for(level: str, geom: BaseGeometry) -> int:
    """The level's resolution, coarser when the shape would need too many cells."""
    return int(resolutions_for([level], [geom])[0])


def resolutions_for(levels: Sequence[str], geoms: Sequence[BaseGeometry]) -> IntArray:
    arr = np.asarray(geoms, dtype=object)
    res = np.array([LEVEL_RESOLUTION.get(level, 12) for level in levels], dtype=np.int64)
    if not len(arr):
        return res
    bounds = shapely.bounds(arr)
    coslat = np.cos(np.radians((bounds[:, 1] + bounds[:, 3]) / 2))
    area_m2 = shapely.area(arr) * _M_PER_DEG**2 * coslat
    length_m = shapely.length(arr) * _M_PER_DEG * np.maximum(coslat, 0.3)
    while True:
        hex_area = np.array([h3.average_hexagon_area(int(r), "m^2") for r in res])
        edge = np.array([h3.average_hexagon_edge_length(int(r), "m") for r in res])
        estimate = area_m2 / hex_area + 1.5 * length_m / edge + 7
        too_many = (estimate > MAX_CELLS_PER_REGION) & (res > 0)
        if not too_many.any():
            return res
        res[too_many] -= 1


def cover(geoms: Sequence[BaseGeometry], resolutions: Sequence[int] | IntArray) -> Cover:
    """The cells overlapping each (Multi)Polygon at its resolution, exactly (no cell is missed)."""
    arr = np.asarray(geoms, dtype=object)
    parts, owner_of_part = shapely.get_parts(arr, return_index=True)
    res_of_part = np.asarray(resolutions, dtype=np.int64)[owner_of_part] if len(parts) else np.zeros(0, np.int64)
    owners: list[IntArray] = []
    cells: list[IntArray] = []
    fulls: list[BoolArray] = []
    for res in np.unique(res_of_part):
        sel = np.flatnonzero(res_of_part == res)
        part_idx, cell, full = _cover_parts(parts[sel], int(res))
        owners.append(owner_of_part[sel][part_idx].astype(np.int64))
        cells.append(cell)
        fulls.append(full)
    if not owners:
        return Cover(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, bool))
    owner, cell, full = np.concatenate(owners), np.concatenate(cells), np.concatenate(fulls)
    # A cell shared by two parts of one MultiPolygon appears once; full if either part holds it.
    order = np.lexsort((~full, cell, owner))
    owner, cell, full = owner[order], cell[order], full[order]
    first = np.ones(len(owner), dtype=bool)
    first[1:] = (owner[1:] != owner[:-1]) | (cell[1:] != cell[:-1])
    return Cover(owner[first], cell[first], full[first])


def _cover_parts(parts: npt.NDArray[Any], res: int) -> tuple[IntArray, IntArray, BoolArray]:
    """Cells of single polygons at one resolution: (part index, cell, full)."""
    n = len(parts)
    shapely.prepare(parts)
    margin = _MARGIN_DEG.get(res, 0.0)
    boundaries = shapely.boundary(parts) if margin else None
    if boundaries is not None:
        shapely.prepare(boundaries)
    points = shapely.get_coordinates(shapely.point_on_surface(parts))
    xs, ys = points[:, 0], points[:, 1]
    bounds = shapely.bounds(parts)
    coslat = np.maximum(np.cos(np.radians(ys)), 0.05)
    dx = np.maximum(xs - bounds[:, 0], bounds[:, 2] - xs) * _M_PER_DEG * coslat
    dy = np.maximum(ys - bounds[:, 1], bounds[:, 3] - ys) * _M_PER_DEG
    edge = h3.average_hexagon_edge_length(res, "m")
    # Cells k rings away have centres at least ~1.5 k edges from the start cell's centre.
    ks = np.maximum(np.ceil((np.hypot(dx, dy) + edge) / (1.5 * edge)).astype(np.int64), 1)

    out_part: list[IntArray] = []
    out_cell: list[IntArray] = []
    out_full: list[BoolArray] = []
    todo = np.arange(n)
    while len(todo):
        disk = todo[ks[todo] <= _DISK_MAX_K]
        filled = todo[ks[todo] > _DISK_MAX_K]
        pp: list[int] = []
        pc: list[int] = []
        pr: list[bool] = []
        for j in disk.tolist():
            k = int(ks[j])
            start = h3i.latlng_to_cell(float(ys[j]), float(xs[j]), res)
            inner = h3i.grid_disk(start, k - 1)
            ring = _ring(start, k)
            pp.extend([j] * (len(inner) + len(ring)))
            pc.extend(inner)
            pc.extend(ring)
            pr.extend([False] * len(inner))
            pr.extend([True] * len(ring))
        for j in filled.tolist():
            part = parts[j]
            shape = geo.h3_shape(shapely.buffer(part, margin) if margin else part)
            found = h3i.h3shape_to_cells_experimental(shape, res, contain="overlap")
            pp.extend([j] * len(found))
            pc.extend(found)
            pr.extend([False] * len(found))
        part_idx = np.asarray(pp, dtype=np.int64)
        cell = np.asarray(pc, dtype=np.int64)
        on_ring = np.asarray(pr, dtype=bool)
        near = _near_bbox(bounds[part_idx], cell, reach_m=_CIRCUMRADIUS * edge + margin * _M_PER_DEG)
        part_idx, cell, on_ring = part_idx[near], cell[near], on_ring[near]
        keep, full = _test_cells(parts, boundaries, part_idx, cell, margin)
        # A kept cell on the outermost ring means the disk may be too small: widen and redo.
        redo = np.unique(part_idx[keep & on_ring])
        done = keep & ~np.isin(part_idx, redo)
        out_part.append(part_idx[done])
        out_cell.append(cell[done])
        out_full.append(full[done])
        ks[redo] *= 2
        todo = redo
    return np.concatenate(out_part), np.concatenate(out_cell), np.concatenate(out_full)


def _near_bbox(bounds: npt.NDArray[np.float64], cells: IntArray, *, reach_m: float) -> BoolArray:
    """Cells whose centre lies within ``reach_m`` of the bbox: the only ones that can touch the shape.

    Cheap (centres, no boundaries), so the exact test runs on far fewer cells.
    """
    if not len(cells):
        return np.zeros(0, dtype=bool)
    unique, inverse = np.unique(cells, return_inverse=True)
    centres = np.array([h3i.cell_to_latlng(c) for c in unique.tolist()], dtype=float)[inverse]
    lat, lon = centres[:, 0], centres[:, 1]
    dlon = np.maximum(np.maximum(bounds[:, 0] - lon, lon - bounds[:, 2]), 0.0)
    dlat = np.maximum(np.maximum(bounds[:, 1] - lat, lat - bounds[:, 3]), 0.0)
    dist = np.hypot(dlon * _M_PER_DEG * np.cos(np.radians(lat)), dlat * _M_PER_DEG)
    near: BoolArray = dist <= reach_m
    return near


def _ring(start: int, k: int) -> list[int]:
    try:
        return list(h3i.grid_ring(start, k))
    except h3.H3BaseException:  # pentagon distortion: take the difference of two disks
        return sorted(set(h3i.grid_disk(start, k)) - set(h3i.grid_disk(start, k - 1)))


def _test_cells(
    parts: npt.NDArray[Any],
    boundaries: npt.NDArray[Any] | None,
    part_idx: IntArray,
    cell: IntArray,
    margin: float,
) -> tuple[BoolArray, BoolArray]:
    """Which (part, cell) pairs overlap, and which cells lie wholly inside their part."""
    keep = np.zeros(len(cell), dtype=bool)
    full = np.zeros(len(cell), dtype=bool)
    if not len(cell):
        return keep, full
    unique, inverse = np.unique(cell, return_inverse=True)
    polys = cell_polygons(unique)[inverse]
    shapes = parts[part_idx]
    if margin:
        keep = shapely.dwithin(shapes, polys, margin)
    else:
        keep = shapely.intersects(shapes, polys)
    sel = np.flatnonzero(keep)
    inside = shapely.contains(shapes[sel], polys[sel])
    if margin and boundaries is not None:
        inside &= ~shapely.dwithin(boundaries[part_idx[sel]], polys[sel], margin)
    full[sel] = inside
    return keep, full


def cell_polygons(cells: IntArray) -> npt.NDArray[Any]:
    """Shapely polygons of H3 cells (their boundary vertices in lon/lat)."""
    coords: list[tuple[float, float]] = []
    ring_of: list[int] = []
    for i, c in enumerate(cells.tolist()):
        boundary = h3i.cell_to_boundary(c)
        coords.extend(boundary)
        ring_of.extend([i] * len(boundary))
    if not coords:
        return np.zeros(0, dtype=object)
    lonlat = np.asarray(coords, dtype=float)[:, ::-1]
    rings = shapely.linearrings(lonlat, indices=np.asarray(ring_of))
    return np.asarray(shapely.polygons(rings), dtype=object)


def cell_resolution(cells: IntArray) -> IntArray:
    """Resolution of H3 cell indexes (bits 52-55), vectorised."""
    return ((cells >> 52) & 0xF).astype(np.int64)
