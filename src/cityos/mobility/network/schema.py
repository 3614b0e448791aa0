"""The road-segment table: the contract every mobility part reads and writes.

One row per directed segment (opposite directions are separate rows). The polyline is WGS84
lon/lat lists in travel direction. ``grid_network`` builds a small synthetic city for tests
without SUMO: a rows × cols grid of two-way streets, every fourth line an arterial, the outer
ring an expressway.
"""

from __future__ import annotations

import math

import polars as pl
import pyarrow as pa

ROAD_CLASSES: tuple[str, ...] = ("expressway", "arterial", "secondary", "branch")

# Default free-flow speed and lanes per class (used where a source gives none).
CLASS_DEFAULTS: dict[str, tuple[float, int]] = {
    "expressway": (80.0, 3),
    "arterial": (60.0, 3),
    "secondary": (40.0, 2),
    "branch": (30.0, 1),
}

# The demo city (成都, UTM zone 48N).
DEMO_CENTRE: tuple[float, float] = (104.066, 30.657)

SEGMENT_SCHEMA = pa.schema(
    [
        pa.field("segment_id", pa.string(), nullable=False),
        pa.field("from_node", pa.string(), nullable=False),
        pa.field("to_node", pa.string(), nullable=False),
        pa.field("road_class", pa.string(), nullable=False),
        pa.field("length_m", pa.float64(), nullable=False),
        pa.field("lanes", pa.int16(), nullable=False),
        pa.field("free_speed_kmh", pa.float64(), nullable=False),
        pa.field("lons", pa.list_(pa.float64()), nullable=False),
        pa.field("lats", pa.list_(pa.float64()), nullable=False),
    ]
)

SEGMENT_POLARS_SCHEMA: dict[str, pl.DataType] = {
    "segment_id": pl.String(),
    "from_node": pl.String(),
    "to_node": pl.String(),
    "road_class": pl.String(),
    "length_m": pl.Float64(),
    "lanes": pl.Int16(),
    "free_speed_kmh": pl.Float64(),
    "lons": pl.List(pl.Float64()),
    "lats": pl.List(pl.Float64()),
}

EARTH_RADIUS_M = 6_371_008.8
M_PER_DEG_LAT = math.pi * EARTH_RADIUS_M / 180.0


def empty_segments() -> pl.DataFrame:
    return pl.DataFrame(schema=SEGMENT_POLARS_SCHEMA)


def segments_frame(rows: dict[str, list[object]]) -> pl.DataFrame:
    """Columns (name -> values) as a contract frame, cast to the contract's types."""
    return pl.DataFrame(rows, schema=SEGMENT_POLARS_SCHEMA)


def conform(df: pl.DataFrame) -> pl.DataFrame:
    """The contract's columns, in order and with its types; raises on a missing column."""
    missing = [c for c in SEGMENT_POLARS_SCHEMA if c not in df.columns]
    if missing:
        raise ValueError(f"segment table lacks columns: {missing}")
    return df.select([pl.col(c).cast(t) for c, t in SEGMENT_POLARS_SCHEMA.items()])


def haversine_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def polyline_length_m(lons: list[float], lats: list[float]) -> float:
    return sum(haversine_m(lons[i], lats[i], lons[i + 1], lats[i + 1]) for i in range(len(lons) - 1))


def grid_node_id(r: int, c: int) -> str:
    return f"n{r}_{c}"


def _line_class(index: int, count: int) -> str:
    if index in (0, count - 1):
        return "expressway"
    if index % 4 == 0:
        return "arterial"
    if index % 2 == 0:
        return "secondary"
    return "branch"


def grid_network(
    rows: int = 5,
    cols: int = 5,
    spacing_m: float = 300.0,
    centre_lon: float = DEMO_CENTRE[0],
    centre_lat: float = DEMO_CENTRE[1],
) -> pl.DataFrame:
    """A rows × cols grid of nodes ``n{r}_{c}`` (r from south, c from west), two-way links.

    Segment ids are ``{from}-{to}`` (e.g. ``n0_0-n0_1``). A link's class is the higher of its
    line's: the border lines are expressway, every fourth line arterial, even lines secondary,
    the rest branch. Lengths are the haversine length of the straight polyline.
    """
    if rows < 2 or cols < 2:
        raise ValueError("a grid needs at least 2 × 2 nodes")
    if spacing_m <= 0:
        raise ValueError("spacing_m must be positive")
    m_per_deg_lon = M_PER_DEG_LAT * math.cos(math.radians(centre_lat))
    lon0 = centre_lon - (cols - 1) * spacing_m / 2 / m_per_deg_lon
    lat0 = centre_lat - (rows - 1) * spacing_m / 2 / M_PER_DEG_LAT

    def pos(r: int, c: int) -> tuple[float, float]:
        return lon0 + c * spacing_m / m_per_deg_lon, lat0 + r * spacing_m / M_PER_DEG_LAT

    cols_out: dict[str, list[object]] = {name: [] for name in SEGMENT_POLARS_SCHEMA}
    links: list[tuple[tuple[int, int], tuple[int, int], str]] = []
    for r in range(rows):
        for c in range(cols - 1):  # east-west links lie on row line r
            links.append(((r, c), (r, c + 1), _line_class(r, rows)))
    for c in range(cols):
        for r in range(rows - 1):  # north-south links lie on column line c
            links.append(((r, c), (r + 1, c), _line_class(c, cols)))
    for a, b, road_class in links:
        speed, lanes = CLASS_DEFAULTS[road_class]
        for u, v in ((a, b), (b, a)):
            (lon1, lat1), (lon2, lat2) = pos(*u), pos(*v)
            fn, tn = grid_node_id(*u), grid_node_id(*v)
            cols_out["segment_id"].append(f"{fn}-{tn}")
            cols_out["from_node"].append(fn)
            cols_out["to_node"].append(tn)
            cols_out["road_class"].append(road_class)
            cols_out["length_m"].append(haversine_m(lon1, lat1, lon2, lat2))
            cols_out["lanes"].append(lanes)
            cols_out["free_speed_kmh"].append(speed)
            cols_out["lons"].append([lon1, lon2])
            cols_out["lats"].append([lat1, lat2])
    return segments_frame(cols_out)
