"""NGSI-LD geo-queries (ETSI GS CIM 009 §4.10): georel, geometry, coordinates, geoproperty.

``parse_geoquery(...)`` validates once and builds a shapely geometry; ``GeoQuery.matches(entity)``
tests an entity in the canonical form. Topological relations (within, contains, intersects,
disjoint, equals, overlaps) are computed on lon/lat; ``near`` distances are metres on WGS84:
haversine between points, and for other shapes a local azimuthal-equidistant-like projection
(equirectangular around the reference point), which is exact enough at city scale.

``GeoQuery.bbox`` is a (min lon, min lat, max lon, max lat) box that every matching entity's
geometry intersects — for a spatial pre-filter in SQL — or None when the relation is not bounded
(``disjoint``, ``near;minDistance``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from cityos.core.errors import FieldError, Invalid
from cityos.core.i18n import N_

EARTH_RADIUS_M = 6_371_008.8
LOCATION_IRI = "https://uri.etsi.org/ngsi-ld/location"
GEOMETRIES = ("Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon")
GEORELS = ("near", "within", "contains", "intersects", "disjoint", "equals", "overlaps")
MAX_POSITIONS = 10_000

MSG_GEOREL = N_("Unknown georel; use near, within, contains, intersects, disjoint, equals or overlaps.")
MSG_NEAR = N_("near needs maxDistance==<metres> or minDistance==<metres>.")
MSG_DISTANCE = N_("The distance must be a number of metres, zero or more.")
MSG_GEOMETRY = N_("Unknown geometry; use Point, MultiPoint, LineString, MultiLineString, Polygon or MultiPolygon.")
MSG_COORDINATES = N_("The coordinates do not fit the geometry.")
MSG_COORD_JSON = N_("The coordinates must be a JSON array.")
MSG_LONLAT = N_("A position must be [longitude, latitude] within -180..180 and -90..90.")
MSG_RING = N_("A polygon ring needs at least four positions and must be closed.")
MSG_MISSING = N_("A geo-query needs georel, geometry and coordinates together.")
MSG_NEAR_POINT = N_("near needs a Point geometry.")
MSG_WITHIN_AREA = N_("within needs a Polygon or MultiPolygon geometry.")
MSG_TOO_MANY = N_("The geometry has too many positions.")


def _fail(field: str, message: str, **params: Any) -> Invalid:
    return Invalid(details=[FieldError(field, message, params)])


def haversine_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance in metres between two WGS84 positions."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def _position(value: Any, count: list[int]) -> None:
    if (
        not isinstance(value, list)
        or len(value) not in (2, 3)
        or not all(isinstance(c, int | float) and not isinstance(c, bool) for c in value)
    ):
        raise _fail("coordinates", MSG_COORDINATES)
    lon, lat = float(value[0]), float(value[1])
    if not (-180 <= lon <= 180 and -90 <= lat <= 90) or math.isnan(lon) or math.isnan(lat):
        raise _fail("coordinates", MSG_LONLAT)
    count[0] += 1
    if count[0] > MAX_POSITIONS:
        raise _fail("coordinates", MSG_TOO_MANY)


def _positions(value: Any, minimum: int, count: list[int]) -> None:
    if not isinstance(value, list) or len(value) < minimum:
        raise _fail("coordinates", MSG_COORDINATES)
    for item in value:
        _position(item, count)


def _polygon(value: Any, count: list[int]) -> None:
    if not isinstance(value, list) or not value:
        raise _fail("coordinates", MSG_COORDINATES)
    for ring in value:
        _positions(ring, 1, count)
        if len(ring) < 4 or ring[0][:2] != ring[-1][:2]:
            raise _fail("coordinates", MSG_RING)


def check_coordinates(geometry: str, coordinates: Any) -> None:
    """Raises Invalid (field ``coordinates``) when they do not fit the GeoJSON geometry type."""
    count = [0]
    if geometry == "Point":
        _position(coordinates, count)
    elif geometry == "MultiPoint":
        _positions(coordinates, 1, count)
    elif geometry == "LineString":
        _positions(coordinates, 2, count)
    elif geometry == "MultiLineString":
        if not isinstance(coordinates, list) or not coordinates:
            raise _fail("coordinates", MSG_COORDINATES)
        for line in coordinates:
            _positions(line, 2, count)
    elif geometry == "Polygon":
        _polygon(coordinates, count)
    elif geometry == "MultiPolygon":
        if not isinstance(coordinates, list) or not coordinates:
            raise _fail("coordinates", MSG_COORDINATES)
        for polygon in coordinates:
            _polygon(polygon, count)
    else:
        raise _fail("geometry", MSG_GEOMETRY)


def geometry_of(value: Any) -> BaseGeometry | None:
    """A shapely geometry of a GeoJSON geometry dict, or None when it is not a valid one."""
    if not isinstance(value, dict) or value.get("type") not in GEOMETRIES:
        return None
    try:
        check_coordinates(str(value["type"]), value.get("coordinates"))
        geom = shape(value)
    except (Invalid, ValueError, TypeError, KeyError, AttributeError):
        return None
    if not geom.is_valid:
        geom = geom.buffer(0) if geom.geom_type in ("Polygon", "MultiPolygon") else geom
    return geom


def _local_projection(lon0: float, lat0: float) -> Callable[[Any], Any]:
    """Metres east/north of (lon0, lat0) for an (N, 2) array of lon/lat."""
    origin = np.array([lon0, lat0])
    scale = np.array(
        [math.radians(1) * EARTH_RADIUS_M * math.cos(math.radians(lat0)), math.radians(1) * EARTH_RADIUS_M]
    )

    def project(coords: Any) -> Any:
        return (coords - origin) * scale

    return project


def distance_m(reference: BaseGeometry, other: BaseGeometry) -> float:
    """Metres between a reference point and a geometry (0 when they touch)."""
    if reference.geom_type == "Point" and other.geom_type == "Point":
        return haversine_m(reference.x, reference.y, other.x, other.y)
    centre = reference.representative_point()
    project = _local_projection(centre.x, centre.y)
    return float(shapely.transform(reference, project).distance(shapely.transform(other, project)))


@dataclass(frozen=True)
class GeoQuery:
    """A validated geo-query; ``matches(entity)`` tests the entity's geoproperty."""

    georel: str
    geometry: BaseGeometry
    geoproperty: str  # expanded
    max_distance: float | None = None
    min_distance: float | None = None
    bbox: tuple[float, float, float, float] | None = None

    def matches(self, entity: dict[str, Any]) -> bool:
        attribute = entity.get(self.geoproperty)
        instances = attribute if isinstance(attribute, list) else [attribute]
        for instance in instances:
            if not isinstance(instance, dict):
                continue
            geom = geometry_of(instance.get("value"))
            if geom is not None and self._relates(geom):
                return True
        return False

    def matches_geometry(self, value: dict[str, Any]) -> bool:
        """Tests one GeoJSON geometry (e.g. a row's stored location)."""
        geom = geometry_of(value)
        return geom is not None and self._relates(geom)

    def _relates(self, geom: BaseGeometry) -> bool:
        ref = self.geometry
        if self.georel == "near":
            if self.bbox is not None and not _box_hits(self.bbox, geom.bounds):
                return False
            distance = distance_m(ref, geom)
            if self.max_distance is not None and distance > self.max_distance:
                return False
            return not (self.min_distance is not None and distance < self.min_distance)
        if self.georel == "within":
            return bool(geom.within(ref))
        if self.georel == "contains":
            return bool(geom.contains(ref))
        if self.georel == "intersects":
            return bool(geom.intersects(ref))
        if self.georel == "disjoint":
            return bool(geom.disjoint(ref))
        if self.georel == "equals":
            return bool(geom.equals(ref))
        if self.georel == "overlaps":
            return bool(geom.overlaps(ref))
        return False


def _box_hits(a: tuple[float, float, float, float], b: tuple[float, ...]) -> bool:
    return not (b[2] < a[0] or b[0] > a[2] or b[3] < a[1] or b[1] > a[3])


def _near_bbox(lon: float, lat: float, metres: float) -> tuple[float, float, float, float]:
    dlat = math.degrees(metres / EARTH_RADIUS_M) * 1.01 + 1e-9
    cos_lat = math.cos(math.radians(lat))
    dlon = 360.0 if cos_lat < 1e-6 else dlat / cos_lat
    return (
        max(-180.0, lon - dlon),
        max(-90.0, lat - dlat),
        min(180.0, lon + dlon),
        min(90.0, lat + dlat),
    )


def _parse_georel(text: str) -> tuple[str, float | None, float | None]:
    parts = [part.strip() for part in text.split(";")]
    rel = parts[0]
    if rel not in GEORELS:
        raise _fail("georel", MSG_GEOREL)
    if rel != "near":
        if len(parts) > 1:
            raise _fail("georel", MSG_GEOREL)
        return rel, None, None
    if len(parts) < 2:
        raise _fail("georel", MSG_NEAR)
    max_d: float | None = None
    min_d: float | None = None
    for part in parts[1:]:
        name, sep, raw = part.partition("==")
        if not sep:  # the NGSIv2 spelling, maxDistance:500
            name, sep, raw = part.partition(":")
        name = name.strip()
        if not sep or name not in ("maxDistance", "minDistance"):
            raise _fail("georel", MSG_NEAR)
        try:
            metres = float(raw)
        except ValueError as exc:
            raise _fail("georel", MSG_DISTANCE) from exc
        if not math.isfinite(metres) or metres < 0:
            raise _fail("georel", MSG_DISTANCE)
        if name == "maxDistance":
            max_d = metres
        else:
            min_d = metres
    return rel, max_d, min_d


def parse_geoquery(
    *,
    georel: str | None,
    geometry: str | None,
    coordinates: str | list[Any] | None,
    geoproperty: str | None,
    expand: Callable[[str], str],
) -> GeoQuery | None:
    """None when no geo-query is asked; Invalid (with the field names) when it is not valid."""
    given = {"georel": georel, "geometry": geometry, "coordinates": coordinates}
    if all(value in (None, "") for value in given.values()):
        return None
    missing = [name for name, value in given.items() if value in (None, "")]
    if missing:
        raise Invalid(details=[FieldError(name, MSG_MISSING) for name in missing])
    if georel is None or geometry is None or coordinates is None:  # for the type checker
        raise Invalid(details=[FieldError("georel", MSG_MISSING)])
    errors: list[FieldError] = []
    rel = ""
    max_d = min_d = None
    try:
        rel, max_d, min_d = _parse_georel(georel)
    except Invalid as exc:
        errors.extend(exc.details)
    if geometry not in GEOMETRIES:
        errors.append(FieldError("geometry", MSG_GEOMETRY))
    coords: Any = coordinates
    if isinstance(coordinates, str):
        try:
            coords = json.loads(coordinates)
        except ValueError:
            errors.append(FieldError("coordinates", MSG_COORD_JSON))
            coords = None
    if coords is not None and geometry in GEOMETRIES:
        try:
            check_coordinates(geometry, coords)
        except Invalid as exc:
            errors.extend(exc.details)
    if not errors:
        if rel == "near" and geometry != "Point":
            errors.append(FieldError("geometry", MSG_NEAR_POINT))
        if rel == "within" and geometry not in ("Polygon", "MultiPolygon"):
            errors.append(FieldError("geometry", MSG_WITHIN_AREA))
    if errors:
        raise Invalid(details=errors)
    ref = shape({"type": geometry, "coordinates": coords})
    if not ref.is_valid and ref.geom_type in ("Polygon", "MultiPolygon"):
        raise _fail("coordinates", MSG_COORDINATES)
    bbox: tuple[float, float, float, float] | None
    if rel == "disjoint" or (rel == "near" and max_d is None):
        bbox = None
    elif rel == "near":
        assert max_d is not None
        bbox = _near_bbox(ref.x, ref.y, max_d)
    else:
        minx, miny, maxx, maxy = ref.bounds
        bbox = (float(minx), float(miny), float(maxx), float(maxy))
    prop = expand(geoproperty) if geoproperty else LOCATION_IRI
    return GeoQuery(rel, ref, prop, max_distance=max_d, min_distance=min_d, bbox=bbox)
