"""Plausible synthetic geometry for the demo city (WGS84 lon/lat, snapped to 1e-7 degrees).

The real divisions come without boundaries, so the generator draws them: a convex city
outline around the real centre, districts as a Voronoi partition of it, streets, communities
and grids as Voronoi partitions of their parents (every cell clipped to its parent, so a
child never leaves its parent), estates as rectangles inside grids, buildings as slightly
rotated rectangles inside estates.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Any

import shapely
from shapely.geometry import MultiPoint, Polygon, box

from cityos.places import geometry as places_geometry

GRID_SIZE = 1e-7  # ~1 cm
M_PER_DEG_LAT = 111_320.0

Point = tuple[float, float]


@dataclass(frozen=True)
class Frame:
    """Metres <-> degrees near one latitude."""

    lat: float

    @property
    def m_per_deg_lon(self) -> float:
        return M_PER_DEG_LAT * math.cos(math.radians(self.lat))

    def dlon(self, metres: float) -> float:
        return metres / self.m_per_deg_lon

    def dlat(self, metres: float) -> float:
        return metres / M_PER_DEG_LAT

    def area_m2(self, poly: Polygon) -> float:
        return float(poly.area) * self.m_per_deg_lon * M_PER_DEG_LAT


def snap(geom: Any) -> Polygon:
    """Snap to the storage precision; keep the largest part if snapping split a sliver."""
    snapped = shapely.set_precision(geom, GRID_SIZE)
    if isinstance(snapped, Polygon) and not snapped.is_empty:
        return snapped
    parts = [g for g in getattr(snapped, "geoms", []) if isinstance(g, Polygon) and not g.is_empty]
    if not parts:
        raise ValueError("geometry collapsed at storage precision")
    return max(parts, key=lambda g: g.area)


def city_outline(rng: random.Random, centre: Point, radius_deg: float, n: int = 32) -> Polygon:
    """A convex outline, a little wider east-west than north-south, around the centre."""
    cx, cy = centre
    rx, ry = radius_deg * 1.15, radius_deg * 0.9
    pts = []
    for i in range(n):
        a = 2 * math.pi * i / n + rng.uniform(-0.06, 0.06)
        r = rng.uniform(0.8, 1.0)
        pts.append((cx + r * rx * math.cos(a), cy + r * ry * math.sin(a)))
    return snap(MultiPoint(pts).convex_hull)


def ring_seeds(rng: random.Random, centre: Point, radius_deg: float, rings: list[int]) -> list[Point]:
    """Seed points for districts: ``rings[i]`` points on ring ``i`` (0 = city core)."""
    cx, cy = centre
    radii = [0.07, 0.32, 0.68]
    out: list[Point] = []
    for ring, count in enumerate(rings):
        if count == 0:
            continue
        base = rng.uniform(0, 2 * math.pi)
        r = radius_deg * radii[min(ring, len(radii) - 1)]
        for i in range(count):
            a = base + 2 * math.pi * i / count + rng.uniform(-0.15, 0.15)
            rr = r * rng.uniform(0.85, 1.1)
            out.append((cx + rr * 1.15 * math.cos(a), cy + rr * 0.9 * math.sin(a)))
    return out


def random_points(rng: random.Random, poly: Polygon, n: int) -> list[Point]:
    minx, miny, maxx, maxy = poly.bounds
    shapely.prepare(poly)
    out: list[Point] = []
    while len(out) < n:
        x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        if shapely.contains_xy(poly, x, y):
            out.append((x, y))
    return out


def partition(parent: Polygon, seeds: list[Point], *, relax: int = 1) -> list[Polygon]:
    """Voronoi cells of the seeds clipped to the parent, in seed order (Lloyd-relaxed)."""
    if len(seeds) == 1:
        return [parent]
    pts = list(seeds)
    cells: list[Polygon] = []
    for step in range(relax + 1):
        diagram = shapely.voronoi_polygons(MultiPoint(pts), extend_to=parent, ordered=True)
        cells = [snap(cell.intersection(parent)) for cell in diagram.geoms]
        if step < relax:
            pts = [(c.centroid.x, c.centroid.y) for c in cells]
    return cells


def place_estates(rng: random.Random, grid: Polygon, n: int, frame: Frame) -> list[Polygon]:
    """Up to ``n`` non-overlapping axis-aligned rectangles (小区) inside the grid."""
    shapely.prepare(grid)
    side = min(320.0, max(60.0, math.sqrt(frame.area_m2(grid) / max(n, 1)) * 0.6))
    gap = 8.0
    placed: list[Polygon] = []
    for _ in range(n):
        scale = 1.0
        for attempt in range(60):
            if attempt and attempt % 15 == 0:
                scale *= 0.75
            w = max(60.0, side * scale * rng.uniform(0.85, 1.25))
            h = max(40.0, side * scale * rng.uniform(0.6, 0.95))
            cx, cy = random_points(rng, grid, 1)[0]
            hw, hh = frame.dlon(w / 2), frame.dlat(h / 2)
            rect = box(cx - hw, cy - hh, cx + hw, cy + hh)
            if not grid.contains(rect):
                continue
            padded = box(
                cx - hw - frame.dlon(gap),
                cy - hh - frame.dlat(gap),
                cx + hw + frame.dlon(gap),
                cy + hh + frame.dlat(gap),
            )
            if any(padded.intersects(p) for p in placed):
                continue
            placed.append(snap(rect))
            break
    return placed


def place_buildings(rng: random.Random, estate: Polygon, n: int, frame: Frame) -> list[Polygon]:
    """Up to ``n`` building footprints (20x12 m to 60x15 m, rotated a little) inside the estate.

    The estate is cut into a row/column layout of slots; each footprint stays inside its
    slot with a margin, so footprints never overlap and never leave the estate.
    """
    minx, miny, maxx, maxy = estate.bounds
    width_m = (maxx - minx) * frame.m_per_deg_lon
    height_m = (maxy - miny) * M_PER_DEG_LAT
    while n > 0:
        cols = max(1, min(n, round(math.sqrt(n * width_m / (height_m * 2.0)))))
        rows = math.ceil(n / cols)
        slot_w, slot_h = width_m / cols, height_m / rows
        if slot_w * 0.85 >= 20 and slot_h * 0.75 >= 12:
            break
        n -= 1
    out: list[Polygon] = []
    for i in range(n):
        col, row = i % cols, i // cols
        length = min(rng.uniform(20, 60), slot_w * 0.85)
        depth = min(rng.uniform(12, 15), slot_h * 0.75)
        theta = math.radians(rng.uniform(-8, 8))
        ext_x = length * abs(math.cos(theta)) + depth * abs(math.sin(theta))
        ext_y = length * abs(math.sin(theta)) + depth * abs(math.cos(theta))
        if ext_x > slot_w * 0.9 or ext_y > slot_h * 0.9:
            theta, ext_x, ext_y = 0.0, length, depth
        # Centre of the footprint, jittered within the slot's spare room (metres from the SW corner).
        mx = (col + 0.5) * slot_w + rng.uniform(-1, 1) * (slot_w * 0.9 - ext_x) / 2
        my = (row + 0.5) * slot_h + rng.uniform(-1, 1) * (slot_h * 0.9 - ext_y) / 2
        cos_t, sin_t = math.cos(theta), math.sin(theta)
        corners = []
        for sx, sy in ((-1, -1), (1, -1), (1, 1), (-1, 1)):
            dx, dy = sx * length / 2, sy * depth / 2
            px, py = mx + dx * cos_t - dy * sin_t, my + dx * sin_t + dy * cos_t
            corners.append((minx + frame.dlon(px), miny + frame.dlat(py)))
        out.append(snap(Polygon(corners)))
    return out


def geo_fields(poly: Polygon) -> dict[str, Any]:
    """The geometry columns of a region row, computed exactly as ``places`` computes them."""
    return {"geometry": places_geometry.to_geojson(poly), **places_geometry.derived_columns(poly)}
