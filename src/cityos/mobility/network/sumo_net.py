"""Read a SUMO ``.net.xml`` into the road-segment table.

Each non-internal edge (``function`` absent or "normal"; ids starting with ':' are junction
internals) becomes one segment: length and speed from its lanes (speed m/s -> km/h, the fastest
lane), lanes counted without sidewalks and bike lanes, the shape from the edge's ``shape`` or,
when absent, the middle lane's. x/y go through the ``<location>`` projection (``proj.py``).
The file is streamed (iterparse) so a city-sized network does not sit in memory as a tree.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import numpy as np
import polars as pl

from cityos.core.errors import Invalid

from .proj import NetProjection, local_projection, net_projection
from .schema import CLASS_DEFAULTS, SEGMENT_POLARS_SCHEMA, polyline_length_m, segments_frame

# SUMO / OSM edge types -> road class (the first matching fragment wins).
_TYPE_CLASSES: tuple[tuple[str, str], ...] = (
    ("motorway", "expressway"),
    ("trunk", "expressway"),
    ("primary", "arterial"),
    ("secondary", "secondary"),
    ("tertiary", "secondary"),
)
_NON_CAR = {"pedestrian", "bicycle", "pedestrian bicycle", "bicycle pedestrian", "rail", "tram"}


def road_class_for(edge_type: str, speed_kmh: float, priority: int | None = None) -> str:
    """From the edge type when it names a road kind, else from the speed limit (and priority)."""
    t = edge_type.lower()
    for fragment, road_class in _TYPE_CLASSES:
        if fragment in t:
            return road_class
    if any(k in t for k in ("residential", "living_street", "service", "unclassified")):
        return "branch"
    if speed_kmh >= 79.5:
        return "expressway"
    if speed_kmh >= 54.5 or (priority is not None and priority >= 10):
        return "arterial"
    if speed_kmh >= 39.5:
        return "secondary"
    return "branch"


def _shape(text: str) -> list[tuple[float, float]]:
    pts = []
    for pair in text.split():
        x, y = pair.split(",")[:2]  # a 3-D shape carries z: ignored
        pts.append((float(x), float(y)))
    return pts


def read_sumo_net(
    path: Path | str, *, origin: tuple[float, float] | None = None
) -> tuple[pl.DataFrame, dict[str, int]]:
    """The contract table and rejected edges (reason -> count). ``origin`` (lon, lat) places a
    network without a projection; without either such a network is refused."""
    proj: NetProjection | None = None
    raw: list[tuple[str, str, str, str, int | None, list[tuple[float, float]], float, int, float]] = []
    rejected: Counter[str] = Counter()
    skipped_internal = 0
    try:
        for _event, el in ET.iterparse(str(path), events=("end",)):
            if el.tag == "location":
                try:
                    proj = net_projection(el.get("netOffset", "0,0"), el.get("projParameter", "!"))
                except Invalid:
                    if origin is None:
                        raise
                    proj = local_projection(*origin)
            elif el.tag == "edge":
                eid = el.get("id", "")
                if eid.startswith(":") or el.get("function", "normal") != "normal":
                    skipped_internal += 1
                    el.clear()
                    continue
                lanes = el.findall("lane")
                car_lanes = [ln for ln in lanes if ln.get("allow", "") not in _NON_CAR]
                if not eid or not el.get("from") or not el.get("to"):
                    rejected["edge without id/from/to"] += 1
                elif not car_lanes:
                    rejected["no lane for cars"] += 1
                else:
                    try:
                        shape_text = el.get("shape") or car_lanes[len(car_lanes) // 2].get("shape", "")
                        shape = _shape(shape_text)
                        length = max(float(ln.get("length", "0")) for ln in car_lanes)
                        speed = max(float(ln.get("speed", "0")) for ln in car_lanes) * 3.6
                        prio = el.get("priority")
                        if len(shape) < 2:
                            rejected["shape with fewer than 2 points"] += 1
                        elif not speed > 0:
                            rejected["lane speed not positive"] += 1
                        else:
                            raw.append(
                                (
                                    eid,
                                    el.get("from", ""),
                                    el.get("to", ""),
                                    el.get("type", ""),
                                    int(prio) if prio not in (None, "") else None,
                                    shape,
                                    length,
                                    len(car_lanes),
                                    speed,
                                )
                            )
                    except (ValueError, IndexError):
                        rejected["unreadable lane or shape numbers"] += 1
                el.clear()
    except ET.ParseError as exc:
        raise Invalid(f"not a readable SUMO network: {exc}") from exc
    if raw and proj is None:
        if origin is None:
            raise Invalid("the network has no <location> element; give an origin lon/lat")
        proj = local_projection(*origin)
    cols: dict[str, list[object]] = {name: [] for name in SEGMENT_POLARS_SCHEMA}
    for eid, fn, tn, etype, prio, shape, length, n_lanes, speed in raw:
        assert proj is not None
        xs = np.array([p[0] for p in shape])
        ys = np.array([p[1] for p in shape])
        lons, lats = proj.lonlat(xs, ys)
        lon_l, lat_l = [float(v) for v in lons], [float(v) for v in lats]
        cols["segment_id"].append(eid)
        cols["from_node"].append(fn)
        cols["to_node"].append(tn)
        road_class = road_class_for(etype, speed, prio)
        cols["road_class"].append(road_class)
        # SUMO's lane length (may differ from the drawn shape after junction trimming) is what
        # the simulation drives, so it is kept; the shape length is the fallback.
        cols["length_m"].append(length if length > 0 else polyline_length_m(lon_l, lat_l))
        cols["lanes"].append(n_lanes or CLASS_DEFAULTS[road_class][1])
        cols["free_speed_kmh"].append(speed)
        cols["lons"].append(lon_l)
        cols["lats"].append(lat_l)
    return segments_frame(cols), dict(rejected)
