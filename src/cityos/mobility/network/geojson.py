"""Read GeoJSON LineString features into the road-segment table.

Accepted properties (all optional but noted): ``id`` / ``segment_id`` (else the feature's
``id``), ``from_node``/``to_node`` (also ``u``/``v``; else the rounded end coordinates),
``road_class`` (or an OSM ``highway`` tag), ``lanes``, ``free_speed_kmh`` (or ``maxspeed`` in
km/h), ``length_m`` (else the haversine length), ``oneway`` (false/"no": the reverse direction
is added as ``<id>:r``). A feature that cannot be used is counted under its reason and skipped;
nothing is dropped silently.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from pathlib import Path
from typing import Any

import polars as pl

from cityos.core.errors import Invalid

from .schema import CLASS_DEFAULTS, ROAD_CLASSES, SEGMENT_POLARS_SCHEMA, polyline_length_m, segments_frame
from .sumo_net import road_class_for


class _Bad(Exception):
    """One unusable feature; the message is its rejection reason."""


def _num(value: Any, what: str) -> float | None:
    if value is None or value == "":
        return None
    try:
        out = float(str(value).split()[0]) if isinstance(value, str) else float(value)
    except (TypeError, ValueError, IndexError) as exc:
        raise _Bad(f"{what} not a number") from exc
    if not math.isfinite(out) or out <= 0:
        raise _Bad(f"{what} not positive")
    return out


def _coords(geometry: Any) -> tuple[list[float], list[float]]:
    if not isinstance(geometry, dict):
        raise _Bad("no geometry")
    gtype = geometry.get("type")
    coords = geometry.get("coordinates")
    if gtype == "MultiLineString" and isinstance(coords, list) and len(coords) == 1:
        coords = coords[0]  # a single-part multi line is just a line
    elif gtype != "LineString":
        raise _Bad(f"geometry is {gtype}, not LineString")
    if not isinstance(coords, list) or len(coords) < 2:
        raise _Bad("LineString with fewer than 2 points")
    lons, lats = [], []
    for pt in coords:
        if not isinstance(pt, list | tuple) or len(pt) < 2:
            raise _Bad("malformed coordinate")
        try:
            lon, lat = float(pt[0]), float(pt[1])
        except (TypeError, ValueError) as exc:
            raise _Bad("malformed coordinate") from exc
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            raise _Bad("coordinate out of lon/lat range")
        lons.append(lon)
        lats.append(lat)
    return lons, lats


def _is_false(value: Any) -> bool:
    return value is False or (isinstance(value, str) and value.lower() in ("no", "false", "0")) or value == 0


def _feature(feature: Any) -> list[dict[str, Any]]:
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        raise _Bad("not a Feature")
    props = feature.get("properties") or {}
    if not isinstance(props, dict):
        raise _Bad("properties not an object")
    lons, lats = _coords(feature.get("geometry"))
    sid = props.get("segment_id", props.get("id", feature.get("id")))
    if sid is None or str(sid) == "":
        raise _Bad("no id")
    speed = _num(props.get("free_speed_kmh", props.get("maxspeed")), "speed")
    lanes_f = _num(props.get("lanes"), "lanes")
    length = _num(props.get("length_m"), "length")
    road_class = props.get("road_class")
    if road_class is None:
        highway = props.get("highway")
        road_class = road_class_for(str(highway or ""), speed or 0.0) if highway or speed else "branch"
    elif road_class not in ROAD_CLASSES:
        raise _Bad("unknown road_class")
    default_speed, default_lanes = CLASS_DEFAULTS[road_class]
    fn = props.get("from_node", props.get("u"))
    tn = props.get("to_node", props.get("v"))
    fn = str(fn) if fn is not None else f"{lons[0]:.6f},{lats[0]:.6f}"
    tn = str(tn) if tn is not None else f"{lons[-1]:.6f},{lats[-1]:.6f}"
    row = {
        "segment_id": str(sid),
        "from_node": fn,
        "to_node": tn,
        "road_class": road_class,
        "length_m": length or polyline_length_m(lons, lats),
        "lanes": int(lanes_f) if lanes_f else default_lanes,
        "free_speed_kmh": speed or default_speed,
        "lons": lons,
        "lats": lats,
    }
    rows = [row]
    if _is_false(props.get("oneway", True)):
        rev = dict(row, segment_id=f"{sid}:r", from_node=tn, to_node=fn, lons=lons[::-1], lats=lats[::-1])
        rows.append(rev)
    return rows


def read_geojson(source: Path | str | dict[str, Any]) -> tuple[pl.DataFrame, dict[str, int]]:
    """A FeatureCollection (a path or the parsed object) -> contract table and rejected counts."""
    if isinstance(source, dict):
        doc = source
    else:
        try:
            doc = json.loads(Path(source).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise Invalid(f"not a readable GeoJSON file: {exc}") from exc
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection" or not isinstance(doc.get("features"), list):
        raise Invalid("GeoJSON road network must be a FeatureCollection")
    cols: dict[str, list[object]] = {name: [] for name in SEGMENT_POLARS_SCHEMA}
    rejected: Counter[str] = Counter()
    seen: set[str] = set()
    for feature in doc["features"]:
        try:
            rows = _feature(feature)
        except _Bad as bad:
            rejected[str(bad)] += 1
            continue
        if any(r["segment_id"] in seen for r in rows):
            rejected["duplicate id"] += 1
            continue
        for r in rows:
            seen.add(r["segment_id"])
            for k, v in r.items():
                cols[k].append(v)
    return segments_frame(cols), dict(rejected)
