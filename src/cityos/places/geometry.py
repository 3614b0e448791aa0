"""Region geometry: GeoJSON (WGS84) in, shapely inside, and the derived columns of a region row."""

from __future__ import annotations

from typing import Any

import h3
import shapely
from shapely.geometry import MultiPolygon, Polygon, shape
from shapely.geometry.base import BaseGeometry

from cityos.core.errors import FieldError, Invalid
from cityos.core.i18n import N_

GEOMETRY_TYPES = ("Polygon", "MultiPolygon")
POINT_RESOLUTION = 9  # resolution of Region.h3_cell, the cell of the representative point

MSG_TYPE = N_("Must be a GeoJSON Polygon or MultiPolygon.")
MSG_COORDS = N_("Coordinates must be [longitude, latitude] pairs in WGS84 (longitude -180..180, latitude -90..90).")
MSG_INVALID = N_("The shape is not a valid polygon: {reason}.")
MSG_EMPTY = N_("The shape is empty.")


def parse(value: Any, *, field: str = "geometry") -> Polygon | MultiPolygon:
    """A validated shapely (Multi)Polygon from a GeoJSON geometry object, or ``Invalid``."""
    if not isinstance(value, dict) or value.get("type") not in GEOMETRY_TYPES:
        raise Invalid(details=[FieldError(field, MSG_TYPE)])
    if not _coordinates_ok(value.get("coordinates"), 3 if value["type"] == "Polygon" else 4):
        raise Invalid(details=[FieldError(field, MSG_COORDS)])
    try:
        geom = shape(value)
    except (ValueError, TypeError, AttributeError, IndexError, shapely.errors.GEOSException) as exc:
        raise Invalid(details=[FieldError(field, MSG_INVALID, {"reason": str(exc)[:120]})]) from exc
    if geom.is_empty or not isinstance(geom, Polygon | MultiPolygon):
        raise Invalid(details=[FieldError(field, MSG_EMPTY)])
    if not geom.is_valid:
        reason = shapely.is_valid_reason(geom)
        raise Invalid(details=[FieldError(field, MSG_INVALID, {"reason": reason})])
    return geom


def _coordinates_ok(coords: Any, nesting: int) -> bool:
    """Nested lists of the right depth whose leaves are [lon, lat] within WGS84 bounds."""
    if not isinstance(coords, list) or not coords:
        return False
    if nesting == 1:
        if len(coords) not in (2, 3) or not all(_is_number(c) for c in coords):
            return False
        lon, lat = float(coords[0]), float(coords[1])
        return -180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0
    return all(_coordinates_ok(c, nesting - 1) for c in coords)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value == value  # not NaN


def to_geojson(geom: BaseGeometry) -> dict[str, Any]:
    """The GeoJSON stored for a geometry: 2D, plain lists."""
    out: dict[str, Any] = _lists(dict(shapely.geometry.mapping(shapely.force_2d(geom))))
    return out


def _lists(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _lists(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_lists(v) for v in value]
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else value


def derived_columns(geom: BaseGeometry) -> dict[str, Any]:
    """bbox, representative point and its H3 cell: the columns computed from a region's geometry."""
    min_lon, min_lat, max_lon, max_lat = geom.bounds
    point = geom.representative_point()
    return {
        "min_lon": float(min_lon),
        "min_lat": float(min_lat),
        "max_lon": float(max_lon),
        "max_lat": float(max_lat),
        "lon": round(float(point.x), 7),
        "lat": round(float(point.y), 7),
        "h3_cell": h3.latlng_to_cell(float(point.y), float(point.x), POINT_RESOLUTION),
    }


def h3_shape(geom: BaseGeometry) -> h3.H3Shape:
    """The H3 shape of a (Multi)Polygon, for H3's own polygon fill."""
    return h3.geo_to_h3shape(shapely.geometry.mapping(shapely.force_2d(geom)))


EMPTY_COLUMNS: dict[str, Any] = {
    "min_lon": None,
    "min_lat": None,
    "max_lon": None,
    "max_lat": None,
    "lon": None,
    "lat": None,
    "h3_cell": None,
}
