"""Road networks in the database: save a segment table in bulk, load it back as the contract.

``import_sumo`` / ``import_geojson`` read a file (``sumo_net.py``, ``geojson.py``) and save it;
``save_segments`` is the common bulk path (chunked Core inserts, no ORM objects per row).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import h3
import polars as pl
from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from cityos.core.db import utcnow
from cityos.core.errors import Conflict, Invalid, NotFound

from .geojson import read_geojson
from .models import H3_RESOLUTION, RoadNetwork, RoadSegment
from .schema import ROAD_CLASSES, conform, segments_frame
from .sumo_net import read_sumo_net

_CHUNK = 2000


def _midpoint(lons: list[float], lats: list[float]) -> tuple[float, float]:
    """The point halfway along the polyline (planar within a segment: segments are short)."""
    steps = [((lons[i + 1] - lons[i]) ** 2 + (lats[i + 1] - lats[i]) ** 2) ** 0.5 for i in range(len(lons) - 1)]
    half, run = sum(steps) / 2, 0.0
    for i, s in enumerate(steps):
        if run + s >= half and s > 0:
            t = (half - run) / s
            return lons[i] + t * (lons[i + 1] - lons[i]), lats[i] + t * (lats[i + 1] - lats[i])
        run += s
    return lons[0], lats[0]


def _check(df: pl.DataFrame) -> None:
    if df["segment_id"].n_unique() != df.height:
        raise Invalid("segment ids must be unique within a network")
    bad = df.filter(~pl.col("road_class").is_in(ROAD_CLASSES) | (pl.col("length_m") <= 0) | (pl.col("lanes") <= 0))
    if bad.height:
        raise Invalid(f"{bad.height} segments have an unknown class or a non-positive length or lane count")


def save_segments(
    session: Session,
    code: str,
    segments: pl.DataFrame,
    *,
    name: str | None = None,
    source: str = "grid",
    source_ref: str | None = None,
    rejected: dict[str, int] | None = None,
    replace: bool = False,
) -> RoadNetwork:
    df = conform(segments)
    _check(df)
    net = session.scalar(select(RoadNetwork).where(RoadNetwork.code == code))
    if net is not None and not replace:
        raise Conflict(f"road network {code!r} exists")
    if net is None:
        net = RoadNetwork(code=code, name=name or code, source=source)
        session.add(net)
    else:
        session.execute(delete(RoadSegment).where(RoadSegment.network_id == net.id))
        net.name = name or net.name
        net.source = source
    net.source_ref = source_ref
    net.imported_at = utcnow()
    net.segments = df.height
    net.rejected = dict(rejected or {})
    if df.height:
        lons, lats = df["lons"].explode(), df["lats"].explode()
        net.min_lon, net.max_lon = float(lons.min()), float(lons.max())  # type: ignore[arg-type]
        net.min_lat, net.max_lat = float(lats.min()), float(lats.max())  # type: ignore[arg-type]
    session.flush()
    batch: list[dict[str, Any]] = []
    for row in df.iter_rows(named=True):
        lo, la = row["lons"], row["lats"]
        mlon, mlat = _midpoint(lo, la)
        batch.append(
            {
                "network_id": net.id,
                "segment_id": row["segment_id"],
                "from_node": row["from_node"],
                "to_node": row["to_node"],
                "road_class": row["road_class"],
                "length_m": row["length_m"],
                "lanes": row["lanes"],
                "free_speed_kmh": row["free_speed_kmh"],
                "geometry": {"type": "LineString", "coordinates": [[x, y] for x, y in zip(lo, la, strict=True)]},
                "min_lon": min(lo),
                "min_lat": min(la),
                "max_lon": max(lo),
                "max_lat": max(la),
                "h3_cell": h3.latlng_to_cell(mlat, mlon, H3_RESOLUTION),
            }
        )
        if len(batch) >= _CHUNK:
            session.execute(insert(RoadSegment), batch)
            batch = []
    if batch:
        session.execute(insert(RoadSegment), batch)
    session.flush()
    return net


def import_sumo(
    session: Session,
    path: Path | str,
    code: str,
    *,
    name: str | None = None,
    origin: tuple[float, float] | None = None,
    replace: bool = False,
) -> RoadNetwork:
    df, rejected = read_sumo_net(path, origin=origin)
    return save_segments(
        session, code, df, name=name, source="sumo", source_ref=Path(path).name, rejected=rejected, replace=replace
    )


def import_geojson(
    session: Session,
    source: Path | str | dict[str, Any],
    code: str,
    *,
    name: str | None = None,
    replace: bool = False,
) -> RoadNetwork:
    df, rejected = read_geojson(source)
    ref = None if isinstance(source, dict) else Path(source).name
    return save_segments(
        session, code, df, name=name, source="geojson", source_ref=ref, rejected=rejected, replace=replace
    )


def get_network(session: Session, code: str) -> RoadNetwork:
    net = session.scalar(select(RoadNetwork).where(RoadNetwork.code == code))
    if net is None:
        raise NotFound(f"road network {code!r} not found")
    return net


def list_networks(session: Session) -> list[RoadNetwork]:
    return list(session.scalars(select(RoadNetwork).order_by(RoadNetwork.code)))


def delete_network(session: Session, code: str) -> None:
    net = get_network(session, code)
    session.execute(delete(RoadSegment).where(RoadSegment.network_id == net.id))
    session.delete(net)
    session.flush()


def load_segments(
    session: Session,
    network_code: str,
    *,
    bbox: tuple[float, float, float, float] | None = None,
) -> pl.DataFrame:
    """The network's segments as the contract table, ordered by segment id; ``bbox``
    (min_lon, min_lat, max_lon, max_lat) keeps those whose bounding box meets it."""
    net = get_network(session, network_code)
    q = select(
        RoadSegment.segment_id,
        RoadSegment.from_node,
        RoadSegment.to_node,
        RoadSegment.road_class,
        RoadSegment.length_m,
        RoadSegment.lanes,
        RoadSegment.free_speed_kmh,
        RoadSegment.geometry,
    ).where(RoadSegment.network_id == net.id)
    if bbox is not None:
        x0, y0, x1, y1 = bbox
        q = q.where(
            RoadSegment.max_lon >= x0, RoadSegment.min_lon <= x1, RoadSegment.max_lat >= y0, RoadSegment.min_lat <= y1
        )
    cols: dict[str, list[object]] = {
        k: [] for k in ("segment_id", "from_node", "to_node", "road_class", "length_m", "lanes", "free_speed_kmh")
    }
    cols["lons"], cols["lats"] = [], []
    for row in session.execute(q.order_by(RoadSegment.segment_id)):
        for k in ("segment_id", "from_node", "to_node", "road_class", "length_m", "lanes", "free_speed_kmh"):
            cols[k].append(getattr(row, k))
        coords = row.geometry["coordinates"]
        cols["lons"].append([float(c[0]) for c in coords])
        cols["lats"].append([float(c[1]) for c in coords])
    return segments_frame(cols)


def active_network(session: Session, code: str | None = None) -> RoadNetwork | None:
    """The network that feeds are matched to: ``code`` when given (None if there is no such
    network), else the most recently imported one (None when none has been imported)."""
    if code is not None:
        return session.scalar(select(RoadNetwork).where(RoadNetwork.code == code))
    return session.scalar(select(RoadNetwork).order_by(RoadNetwork.imported_at.desc(), RoadNetwork.id.desc()).limit(1))
