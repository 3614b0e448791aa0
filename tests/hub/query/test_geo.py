"""Geo-queries: each georel, distances in metres on WGS84, bbox pre-filters and bad input."""

from __future__ import annotations

import json
from typing import Any

import pytest

from cityos.core.errors import Invalid
from cityos.hub.ngsi.geo import LOCATION_IRI, GeoQuery, haversine_m, parse_geoquery

V = "https://uri.etsi.org/ngsi-ld/default-context/"


def expand(term: str) -> str:
    return LOCATION_IRI if term == "location" else V + term


def at(geometry: dict[str, Any], attr: str = LOCATION_IRI) -> dict[str, Any]:
    return {"id": "urn:ngsi-ld:X:1", "type": V + "X", attr: {"type": "GeoProperty", "value": geometry}}


def point(lon: float, lat: float) -> dict[str, Any]:
    return {"type": "Point", "coordinates": [lon, lat]}


SQUARE = [[[104.0, 30.0], [104.1, 30.0], [104.1, 30.1], [104.0, 30.1], [104.0, 30.0]]]
SQUARE_GEOM = {"type": "Polygon", "coordinates": SQUARE}


def geo(georel: str, geometry: str, coordinates: Any, geoproperty: str | None = None) -> GeoQuery:
    query = parse_geoquery(
        georel=georel, geometry=geometry, coordinates=coordinates, geoproperty=geoproperty, expand=expand
    )
    assert query is not None
    return query


def test_no_geo_query_is_none() -> None:
    assert parse_geoquery(georel=None, geometry=None, coordinates=None, geoproperty=None, expand=expand) is None
    assert parse_geoquery(georel="", geometry="", coordinates="", geoproperty="location", expand=expand) is None


def test_haversine_known_distance() -> None:
    # one degree of latitude is about 111.2 km
    assert haversine_m(104.0, 30.0, 104.0, 31.0) == pytest.approx(111_195, rel=1e-3)
    # Chengdu Tianfu Square to Chunxi Road, about 1.3 km
    assert haversine_m(104.0657, 30.6598, 104.0786, 30.6551) == pytest.approx(1340, rel=0.05)


def test_near_max_and_min_distance_in_metres() -> None:
    centre = "[104.0, 30.0]"
    east_900m = point(104.0 + 900 / (111_195 * 0.8660254), 30.0)  # cos(30°)
    east_1100m = point(104.0 + 1100 / (111_195 * 0.8660254), 30.0)
    near = geo("near;maxDistance==1000", "Point", centre)
    assert near.matches(at(east_900m))
    assert not near.matches(at(east_1100m))
    far = geo("near;minDistance==1000", "Point", centre)
    assert far.matches(at(east_1100m))
    assert not far.matches(at(east_900m))
    assert far.bbox is None
    assert geo("near;maxDistance:1000", "Point", centre).matches(at(east_900m))  # NGSIv2 spelling
    ring = geo("near;minDistance==500;maxDistance==1000", "Point", centre)
    assert ring.matches(at(east_900m))
    assert not ring.matches(at(point(104.0, 30.0)))


def test_near_measures_to_the_edge_of_a_shape() -> None:
    # a line passing 500 m north of the point
    north = 30.0 + 500 / 111_195
    line = {"type": "LineString", "coordinates": [[103.99, north], [104.01, north]]}
    assert geo("near;maxDistance==520", "Point", "[104.0, 30.0]").matches(at(line))
    assert not geo("near;maxDistance==480", "Point", "[104.0, 30.0]").matches(at(line))


def test_near_bbox_covers_the_circle() -> None:
    query = geo("near;maxDistance==1000", "Point", [104.0, 30.0])
    assert query.bbox is not None
    minlon, minlat, maxlon, maxlat = query.bbox
    assert minlat < 30.0 - 1000 / 111_195 < 30.0 + 1000 / 111_195 < maxlat
    assert minlon < 104.0 - 1000 / (111_195 * 0.8660254)
    assert maxlon > 104.0 + 1000 / (111_195 * 0.8660254)
    assert maxlon - minlon < 0.03


def test_within_contains_intersects_disjoint_equals_overlaps() -> None:
    inside = at(point(104.05, 30.05))
    outside = at(point(105.0, 30.05))
    within = geo("within", "Polygon", json.dumps(SQUARE))
    assert within.matches(inside)
    assert not within.matches(outside)
    assert within.bbox == (104.0, 30.0, 104.1, 30.1)

    area = at(SQUARE_GEOM)
    assert geo("contains", "Point", "[104.05, 30.05]").matches(area)
    assert not geo("contains", "Point", "[105, 30]").matches(area)

    line = [[103.9, 30.05], [104.2, 30.05]]
    assert geo("intersects", "LineString", line).matches(area)
    assert not geo("intersects", "LineString", [[103.0, 29.0], [103.1, 29.0]]).matches(area)

    assert geo("disjoint", "Point", "[105, 30]").matches(area)
    assert not geo("disjoint", "Point", "[104.05, 30.05]").matches(area)
    assert geo("disjoint", "Point", "[105, 30]").bbox is None

    assert geo("equals", "Polygon", SQUARE).matches(area)
    assert geo("equals", "Point", "[104.05, 30.05]").matches(inside)
    assert not geo("equals", "Point", "[104.05, 30.06]").matches(inside)

    shifted = [[[104.05, 30.05], [104.15, 30.05], [104.15, 30.15], [104.05, 30.15], [104.05, 30.05]]]
    assert geo("overlaps", "Polygon", shifted).matches(area)
    assert not geo("overlaps", "Polygon", SQUARE).matches(area)


def test_multi_geometries() -> None:
    multi = [SQUARE, [[[105.0, 31.0], [105.1, 31.0], [105.1, 31.1], [105.0, 31.0]]]]
    within = geo("within", "MultiPolygon", multi)
    assert within.matches(at(point(105.08, 31.02)))
    assert geo("intersects", "MultiPoint", [[104.05, 30.05], [110, 40]]).matches(at(SQUARE_GEOM))
    lines = [[[103.9, 30.05], [104.2, 30.05]], [[0, 0], [1, 1]]]
    assert geo("intersects", "MultiLineString", lines).matches(at(SQUARE_GEOM))


def test_geoproperty_and_multi_instance() -> None:
    entity = {
        "id": "urn:x",
        "type": V + "X",
        V + "observationSpace": [
            {"type": "GeoProperty", "value": point(0, 0), "datasetId": "urn:a"},
            {"type": "GeoProperty", "value": point(104.05, 30.05), "datasetId": "urn:b"},
        ],
    }
    assert geo("within", "Polygon", SQUARE, geoproperty="observationSpace").matches(entity)
    assert not geo("within", "Polygon", SQUARE).matches(entity)  # no location
    assert not geo("within", "Polygon", SQUARE).matches(at({"type": "Point", "coordinates": "bad"}))


@pytest.mark.parametrize(
    ("georel", "geometry", "coordinates", "fields"),
    [
        ("near", "Point", "[104, 30]", {"georel"}),
        ("near;maxDistance==-5", "Point", "[104, 30]", {"georel"}),
        ("near;maxDistance==far", "Point", "[104, 30]", {"georel"}),
        ("near;radius==5", "Point", "[104, 30]", {"georel"}),
        ("nearby", "Point", "[104, 30]", {"georel"}),
        ("within;x==1", "Polygon", SQUARE, {"georel"}),
        ("within", "Circle", "[104, 30]", {"geometry"}),
        ("within", "Point", "[104, 30]", {"geometry"}),
        ("near;maxDistance==10", "Polygon", SQUARE, {"geometry"}),
        ("within", "Polygon", "not json", {"coordinates"}),
        ("within", "Polygon", "[[[104, 30], [104.1, 30], [104, 30]]]", {"coordinates"}),
        ("within", "Polygon", "[[[104, 30], [104.1, 30], [104.1, 30.1], [104, 30.1]]]", {"coordinates"}),
        ("intersects", "Point", "[200, 30]", {"coordinates"}),
        ("intersects", "Point", "[104, 95]", {"coordinates"}),
        ("intersects", "Point", "[104]", {"coordinates"}),
        ("intersects", "Point", '["a", "b"]', {"coordinates"}),
        ("intersects", "LineString", "[[104, 30]]", {"coordinates"}),
        ("nearby", "Circle", "x", {"georel", "geometry", "coordinates"}),
    ],
)
def test_bad_input_names_the_fields(georel: str, geometry: str, coordinates: Any, fields: set[str]) -> None:
    with pytest.raises(Invalid) as exc:
        parse_geoquery(georel=georel, geometry=geometry, coordinates=coordinates, geoproperty=None, expand=expand)
    assert {d.field for d in exc.value.details} == fields


def test_missing_parts_are_named() -> None:
    with pytest.raises(Invalid) as exc:
        parse_geoquery(georel="within", geometry=None, coordinates=None, geoproperty=None, expand=expand)
    assert {d.field for d in exc.value.details} == {"geometry", "coordinates"}


def test_matches_geometry_of_a_stored_location() -> None:
    query = geo("near;maxDistance==2000", "Point", "[104.0, 30.0]")
    assert query.matches_geometry(point(104.01, 30.0))
    assert not query.matches_geometry({"type": "Nope"})
