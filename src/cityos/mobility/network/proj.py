"""Projections between SUMO's planar x/y and WGS84 lon/lat.

A SUMO network's ``<location>`` says how: ``x = E + netOffset.x`` (likewise y), where E/N come
from ``projParameter`` (a PROJ string). pyproj is used when installed; otherwise the ``+proj=utm``
case is done here with the Transverse Mercator series of Snyder (USGS PP 1395, eqs. 8-9..8-25),
accurate to millimetres near the central meridian and well under a metre across a zone.
Any other projection without pyproj is refused (``Invalid``), never guessed.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from cityos.core.errors import Invalid

from .schema import M_PER_DEG_LAT

Array = npt.NDArray[np.float64]

_A = 6_378_137.0
_F = 1 / 298.257223563
_E2 = _F * (2 - _F)
_EP2 = _E2 / (1 - _E2)
_K0 = 0.9996


def utm_zone(lon: float) -> int:
    return int((lon + 180) // 6) % 60 + 1


def utm_proj_string(lon: float, lat: float) -> str:
    south = " +south" if lat < 0 else ""
    return f"+proj=utm +zone={utm_zone(lon)}{south} +ellps=WGS84 +datum=WGS84 +units=m +no_defs"


def _central_meridian(zone: int) -> float:
    return math.radians((zone - 1) * 6 - 180 + 3)


def utm_forward(lon: Array, lat: Array, zone: int, south: bool = False) -> tuple[Array, Array]:
    phi, lam = np.radians(lat), np.radians(lon)
    e2, ep2 = _E2, _EP2
    n = _A / np.sqrt(1 - e2 * np.sin(phi) ** 2)
    t = np.tan(phi) ** 2
    c = ep2 * np.cos(phi) ** 2
    a = np.cos(phi) * (lam - _central_meridian(zone))
    m = _A * (
        (1 - e2 / 4 - 3 * e2**2 / 64 - 5 * e2**3 / 256) * phi
        - (3 * e2 / 8 + 3 * e2**2 / 32 + 45 * e2**3 / 1024) * np.sin(2 * phi)
        + (15 * e2**2 / 256 + 45 * e2**3 / 1024) * np.sin(4 * phi)
        - (35 * e2**3 / 3072) * np.sin(6 * phi)
    )
    east = _K0 * n * (a + (1 - t + c) * a**3 / 6 + (5 - 18 * t + t**2 + 72 * c - 58 * ep2) * a**5 / 120) + 500_000.0
    north = _K0 * (
        m
        + n
        * np.tan(phi)
        * (a**2 / 2 + (5 - t + 9 * c + 4 * c**2) * a**4 / 24 + (61 - 58 * t + t**2 + 600 * c - 330 * ep2) * a**6 / 720)
    )
    return east, north + (10_000_000.0 if south else 0.0)


def utm_inverse(east: Array, north: Array, zone: int, south: bool = False) -> tuple[Array, Array]:
    e2, ep2 = _E2, _EP2
    x = np.asarray(east, dtype=np.float64) - 500_000.0
    y = np.asarray(north, dtype=np.float64) - (10_000_000.0 if south else 0.0)
    mu = (y / _K0) / (_A * (1 - e2 / 4 - 3 * e2**2 / 64 - 5 * e2**3 / 256))
    e1 = (1 - math.sqrt(1 - e2)) / (1 + math.sqrt(1 - e2))
    phi1 = (
        mu
        + (3 * e1 / 2 - 27 * e1**3 / 32) * np.sin(2 * mu)
        + (21 * e1**2 / 16 - 55 * e1**4 / 32) * np.sin(4 * mu)
        + (151 * e1**3 / 96) * np.sin(6 * mu)
        + (1097 * e1**4 / 512) * np.sin(8 * mu)
    )
    s, co = np.sin(phi1), np.cos(phi1)
    c1 = ep2 * co**2
    t1 = np.tan(phi1) ** 2
    n1 = _A / np.sqrt(1 - e2 * s**2)
    r1 = _A * (1 - e2) / (1 - e2 * s**2) ** 1.5
    d = x / (n1 * _K0)
    lat = phi1 - (n1 * np.tan(phi1) / r1) * (
        d**2 / 2
        - (5 + 3 * t1 + 10 * c1 - 4 * c1**2 - 9 * ep2) * d**4 / 24
        + (61 + 90 * t1 + 298 * c1 + 45 * t1**2 - 252 * ep2 - 3 * c1**2) * d**6 / 720
    )
    lon = (
        _central_meridian(zone)
        + (d - (1 + 2 * t1 + c1) * d**3 / 6 + (5 - 2 * c1 + 28 * t1 - 3 * c1**2 + 8 * ep2 + 24 * t1**2) * d**5 / 120)
        / co
    )
    return np.degrees(lon), np.degrees(lat)


def _parse_proj(proj: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for token in proj.split():
        key, _, value = token.lstrip("+").partition("=")
        out[key] = value
    return out


@dataclass(frozen=True)
class NetProjection:
    """x/y of a SUMO network <-> lon/lat."""

    offset_x: float
    offset_y: float
    to_lonlat: Callable[[Array, Array], tuple[Array, Array]]
    to_xy: Callable[[Array, Array], tuple[Array, Array]]

    def lonlat(self, x: Array, y: Array) -> tuple[Array, Array]:
        return self.to_lonlat(np.asarray(x, dtype=np.float64) - self.offset_x, np.asarray(y) - self.offset_y)

    def xy(self, lon: Array, lat: Array) -> tuple[Array, Array]:
        e, n = self.to_xy(np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64))
        return e + self.offset_x, n + self.offset_y


def _pyproj_pair(proj: str) -> tuple[Callable[[Array, Array], tuple[Array, Array]], ...] | None:
    try:
        import pyproj  # optional; the UTM case below needs none
    except ImportError:
        return None
    inv = pyproj.Transformer.from_crs(pyproj.CRS.from_proj4(proj), "EPSG:4326", always_xy=True)
    fwd = pyproj.Transformer.from_crs("EPSG:4326", pyproj.CRS.from_proj4(proj), always_xy=True)
    return (lambda x, y: inv.transform(x, y)), (lambda lo, la: fwd.transform(lo, la))


def local_projection(origin_lon: float, origin_lat: float) -> NetProjection:
    """Planar metres around an origin (equirectangular): for networks that carry no projection."""
    mx = M_PER_DEG_LAT * math.cos(math.radians(origin_lat))
    return NetProjection(
        0.0,
        0.0,
        lambda x, y: (origin_lon + x / mx, origin_lat + y / M_PER_DEG_LAT),
        lambda lo, la: ((lo - origin_lon) * mx, (la - origin_lat) * M_PER_DEG_LAT),
    )


def net_projection(net_offset: str, proj: str) -> NetProjection:
    """From a ``<location>`` element's netOffset ("x,y") and projParameter."""
    try:
        ox, oy = (float(v) for v in net_offset.split(","))
    except ValueError as exc:
        raise Invalid(f"bad netOffset in <location>: {net_offset!r}") from exc
    proj = proj.strip()
    if not proj or proj == "!":
        raise Invalid("the network has no projection (projParameter '!'); give an origin lon/lat")
    pair = _pyproj_pair(proj)
    if pair is not None:
        return NetProjection(ox, oy, pair[0], pair[1])
    params = _parse_proj(proj)
    if params.get("proj") != "utm" or not params.get("zone", "").isdigit():
        raise Invalid(f"projection {proj!r} needs pyproj (only +proj=utm is built in)")
    zone, south = int(params["zone"]), "south" in params
    return NetProjection(
        ox,
        oy,
        lambda x, y: utm_inverse(x, y, zone, south),
        lambda lo, la: utm_forward(lo, la, zone, south),
    )
