"""Reading the board: the map's segment states of one bin, the vital signs' series, a segment's
history and forecasts, the areas an operator can choose. All need ``traffic:read``."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityos.core.actor import Actor
from cityos.core.errors import FieldError, Invalid, NotFound
from cityos.core.i18n import N_
from cityos.mobility.monitor import areas, forecasts
from cityos.mobility.monitor.models import LEVELS, MonitorCursor, SegmentState, TrafficCorridor, VitalSign
from cityos.mobility.monitor.service import BIN, floor_bin
from cityos.mobility.network import service as network
from cityos.mobility.network.models import RoadNetwork
from cityos.places.models import Region

PERMISSION = "traffic:read"
MAX_HOURS = 168

MSG_LEVEL = N_("Choose city, district or corridor.")
MSG_AREA = N_("No such area at this level.")
MSG_HOURS = N_("Give a number of hours from 1 to 168.")
MSG_NO_NETWORK = N_("No road network has been imported yet.")

# The five standard state colours: green, light green, yellow, orange, red.
STATE_COLOURS: tuple[str, ...] = ("#1a9850", "#91cf60", "#fee08b", "#fc8d59", "#d73027")
NO_DATA_COLOUR = "#9aa3ad"


def _net(session: Session, network_code: str | None = None) -> RoadNetwork:
    net = network.active_network(session, network_code)
    if net is None:
        raise NotFound(MSG_NO_NETWORK)
    return net


def latest_bin(session: Session, network_code: str) -> datetime | None:
    """The newest bin that has segment states (a computed bin with no traffic at all, like the
    edge of a feed, would show an empty map)."""
    return session.scalar(select(func.max(SegmentState.bin_start)).where(SegmentState.network_code == network_code))


_geo_cache: dict[tuple[Any, ...], dict[str, Any]] = {}
_geo_lock = threading.Lock()
_GEO_CACHE_SIZE = 32


def states_geojson(
    session: Session, actor: Actor, *, at: datetime | None = None, network_code: str | None = None
) -> dict[str, Any]:
    """Every segment of the network with its state in the bin holding ``at`` (default: the latest
    computed bin), as a GeoJSON FeatureCollection; built once per bin and cached."""
    actor.require(PERMISSION)
    net = _net(session, network_code)
    latest = latest_bin(session, net.code)
    bin_start = floor_bin(at) if at is not None else latest
    stamp = session.scalar(select(MonitorCursor.updated_at).where(MonitorCursor.network_code == net.code))
    key = (str(session.get_bind().engine.url), net.code, net.imported_at, bin_start, stamp)
    with _geo_lock:
        hit = _geo_cache.get(key)
    if hit is not None:
        return hit
    places = areas.segment_places(session, net)
    states: dict[str, tuple[int | None, float | None]] = {}
    if bin_start is not None:
        rows = session.execute(
            select(SegmentState.segment_id, SegmentState.state, SegmentState.speed_kmh).where(
                SegmentState.network_code == net.code, SegmentState.bin_start == bin_start
            )
        )
        states = {sid: (state, speed) for sid, state, speed in rows}
    features = []
    for seg in places.segments.iter_rows(named=True):
        state, speed = states.get(seg["segment_id"], (None, None))
        features.append(
            {
                "type": "Feature",
                "geometry": {
                    "type": "LineString",
                    "coordinates": [[round(x, 6), round(y, 6)] for x, y in zip(seg["lons"], seg["lats"], strict=True)],
                },
                "properties": {
                    "id": seg["segment_id"],
                    "name": f"{seg['from_node']} → {seg['to_node']}",
                    "class": seg["road_class"],
                    "state": state,
                    "speed": round(speed, 1) if speed is not None else None,
                },
            }
        )
    out = {
        "type": "FeatureCollection",
        "network": net.code,
        "bin_start": bin_start.isoformat() if bin_start else None,
        "features": features,
    }
    with _geo_lock:
        if len(_geo_cache) >= _GEO_CACHE_SIZE:
            _geo_cache.clear()
        _geo_cache[key] = out
    return out


@dataclass(frozen=True)
class Area:
    level: str
    area_id: str
    name: str


def area_choices(session: Session, actor: Actor) -> list[Area]:
    """The city, the districts that have vital signs, the active corridors."""
    actor.require(PERMISSION)
    out = [Area("city", areas.CITY_AREA, N_("Whole city"))]
    codes = session.scalars(select(VitalSign.area_id).where(VitalSign.level == "district").distinct()).all()
    if codes:
        rows = session.execute(select(Region.code, Region.name).where(Region.code.in_(codes)).order_by(Region.code))
        out += [Area("district", code, name) for code, name in rows]
    corridors = session.scalars(
        select(TrafficCorridor).where(TrafficCorridor.active.is_(True)).order_by(TrafficCorridor.code)
    )
    out += [Area("corridor", c.code, c.name) for c in corridors]
    return out


def check_area(session: Session, actor: Actor, level: str | None, area: str | None) -> tuple[str, str]:
    level = level or "city"
    if level not in LEVELS:
        raise Invalid(details=[FieldError("level", MSG_LEVEL)])
    if level == "city":
        return level, areas.CITY_AREA
    choices = {a.area_id for a in area_choices(session, actor) if a.level == level}
    if not area or area not in choices:
        raise Invalid(details=[FieldError("area", MSG_AREA)])
    return level, area


def vitals(
    session: Session,
    actor: Actor,
    *,
    level: str | None = "city",
    area: str | None = None,
    hours: int = 24,
    network_code: str | None = None,
) -> list[VitalSign]:
    """The area's vital signs over the ``hours`` up to the latest computed bin, oldest first."""
    actor.require(PERMISSION)
    if not 1 <= hours <= MAX_HOURS:
        raise Invalid(details=[FieldError("hours", MSG_HOURS)])
    level, area = check_area(session, actor, level, area)
    net = network.active_network(session, network_code)
    last = latest_bin(session, net.code) if net is not None else None
    if last is None:
        return []
    q = select(VitalSign).where(
        VitalSign.level == level,
        VitalSign.area_id == area,
        VitalSign.bin_start > last - timedelta(hours=hours),
        VitalSign.bin_start <= last,
    )
    return list(session.scalars(q.order_by(VitalSign.bin_start)))


@dataclass
class SegmentView:
    network_code: str
    segment: dict[str, Any]
    history: list[SegmentState]
    forecasts: list[Any]
    mae: dict[int, tuple[float | None, int]]


def segment_detail(
    session: Session, actor: Actor, *, segment_id: str, hours: int = 24, network_code: str | None = None
) -> SegmentView:
    actor.require(PERMISSION)
    if not 1 <= hours <= MAX_HOURS:
        raise Invalid(details=[FieldError("hours", MSG_HOURS)])
    net = _net(session, network_code)
    places = areas.segment_places(session, net)
    found = places.segments.filter(places.segments["segment_id"] == segment_id)
    if found.is_empty():
        raise NotFound()
    seg = found.row(0, named=True)
    last = latest_bin(session, net.code)
    history: list[SegmentState] = []
    mae: dict[int, tuple[float | None, int]] = {}
    if last is not None:
        since = last - timedelta(hours=hours) + BIN
        q = select(SegmentState).where(
            SegmentState.network_code == net.code,
            SegmentState.segment_id == segment_id,
            SegmentState.bin_start >= since,
            SegmentState.bin_start <= last,
        )
        history = list(session.scalars(q.order_by(SegmentState.bin_start)))
        mae = forecasts.errors(session, network_code=net.code, segment_id=segment_id, since=since)
    latest = forecasts.latest(session, network_code=net.code, segment_id=segment_id)
    return SegmentView(net.code, seg, history, latest, mae)
