import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from cityos.core.errors import Invalid
from cityos.mobility.network import proj
from cityos.mobility.network.geojson import read_geojson
from cityos.mobility.network.proj import net_projection, utm_forward, utm_inverse, utm_zone
from cityos.mobility.network.sumo_net import read_sumo_net, road_class_for

TINY = Path(__file__).parent / "data" / "tiny.net.xml"


def test_utm_against_known_point_and_round_trip(monkeypatch: pytest.MonkeyPatch) -> None:
    # On the central meridian of zone 48 at 30°N: E 500 000, N = k0 × meridian arc (3 318 785.35 m).
    e, n = utm_forward(np.array([105.0]), np.array([30.0]), 48)
    assert e[0] == pytest.approx(500_000.0, abs=1e-6)
    assert n[0] == pytest.approx(3_318_785.353, abs=0.01)
    lon = np.array([102.1, 104.066, 107.9])
    lat = np.array([29.0, 30.657, 32.0])
    back = utm_inverse(*utm_forward(lon, lat, 48), 48)
    assert np.allclose(back[0], lon, atol=1e-8)
    assert np.allclose(back[1], lat, atol=1e-8)
    assert utm_zone(104.066) == 48
    # Other projections go through pyproj (installed with gtfs-kit) …
    lcc = net_projection("100,50", "+proj=lcc +lat_1=25 +lat_2=35 +lat_0=30 +lon_0=104 +datum=WGS84")
    x, y = lcc.xy(lon, lat)
    back_lon, back_lat = lcc.lonlat(x, y)
    assert np.allclose(back_lon, lon, atol=1e-8)
    assert np.allclose(back_lat, lat, atol=1e-8)
    # … and without it only UTM is built in.
    monkeypatch.setattr(proj, "_pyproj_pair", lambda _: None)
    with pytest.raises(Invalid, match="pyproj"):
        net_projection("0,0", "+proj=lcc +lat_1=30")


def test_tiny_net_xml() -> None:
    df, rejected = read_sumo_net(TINY)
    assert rejected == {"no lane for cars": 1, "shape with fewer than 2 points": 1}
    assert sorted(df["segment_id"]) == ["AB", "BA", "BC"]  # internal ':B_0' skipped, not rejected
    by = {r["segment_id"]: r for r in df.iter_rows(named=True)}
    assert by["AB"]["lanes"] == 2
    assert by["BA"]["lanes"] == 2
    assert by["AB"]["free_speed_kmh"] == pytest.approx(16.67 * 3.6)
    assert by["AB"]["road_class"] == "arterial"
    assert by["BC"]["road_class"] == "branch"
    assert by["BA"]["lons"][0] > by["BA"]["lons"][-1]  # edge shape, in travel direction
    assert len(by["BA"]["lons"]) == 3
    assert by["AB"]["length_m"] == 200.0
    # x = E + netOffset: junction B at x=200, y=100 is UTM (410200, 3391100)
    lon, lat = utm_inverse(np.array([410_200.0]), np.array([3_391_100.0]), 48)
    assert by["BC"]["lons"][0] == pytest.approx(lon[0], abs=1e-9)
    assert by["BC"]["lats"][0] == pytest.approx(lat[0], abs=1e-9)


def test_net_without_projection_needs_origin(tmp_path: Path) -> None:
    text = TINY.read_text().replace('projParameter="+proj=utm +zone=48', 'projParameter="!" x="')
    p = tmp_path / "noproj.net.xml"
    p.write_text(text)
    with pytest.raises(Invalid, match="origin"):
        read_sumo_net(p)
    df, _ = read_sumo_net(p, origin=(104.0, 30.0))
    # local plane: B is 200 m east of A; offsets are the raw x/y in metres from the origin
    assert df.filter(pl.col("segment_id") == "BC")["lons"][0][0] > 104.0


@pytest.mark.parametrize(
    ("etype", "speed", "expected"),
    [
        ("highway.motorway", 100, "expressway"),
        ("highway.residential", 50, "branch"),
        ("", 60, "arterial"),
        ("", 45, "secondary"),
    ],
)
def test_road_class(etype: str, speed: float, expected: str) -> None:
    assert road_class_for(etype, speed) == expected


def _line(fid: object, coords: object, **props: object) -> dict[str, object]:
    return {
        "type": "Feature",
        "id": fid,
        "properties": props,
        "geometry": {"type": "LineString", "coordinates": coords},
    }


def test_geojson_with_bad_features() -> None:
    good = [[104.0, 30.0], [104.001, 30.0]]
    doc = {
        "type": "FeatureCollection",
        "features": [
            _line("a", good, road_class="arterial", lanes=3, free_speed_kmh=50, from_node="1", to_node="2"),
            _line("b", good, highway="motorway", oneway="no"),
            _line("c", [[104.0, 30.0]]),
            _line("d", [[200.0, 30.0], [104.0, 30.0]]),
            _line("e", good, road_class="motorway"),
            _line("f", good, lanes="many"),
            _line("a", good),
            {"type": "Feature", "id": "g", "properties": {}, "geometry": {"type": "Point", "coordinates": [1, 2]}},
            {"type": "Feature", "id": "h", "properties": {}, "geometry": None},
            "junk",
        ],
    }
    df, rejected = read_geojson(doc)
    assert rejected == {
        "LineString with fewer than 2 points": 1,
        "coordinate out of lon/lat range": 1,
        "unknown road_class": 1,
        "lanes not a number": 1,
        "duplicate id": 1,
        "geometry is Point, not LineString": 1,
        "no geometry": 1,
        "not a Feature": 1,
    }
    assert df["segment_id"].to_list() == ["a", "b", "b:r"]
    a, b, br = df.iter_rows(named=True)
    assert (a["lanes"], a["free_speed_kmh"], a["from_node"]) == (3, 50.0, "1")
    assert a["length_m"] == pytest.approx(96.4, abs=0.5)  # 0.001° of longitude at 30°N
    assert b["road_class"] == "expressway"
    assert b["free_speed_kmh"] == 80.0
    assert br["lons"] == b["lons"][::-1]
    assert br["from_node"] == b["to_node"]
    with pytest.raises(Invalid):
        read_geojson({"type": "Feature"})


def test_geojson_file(tmp_path: Path) -> None:
    p = tmp_path / "roads.geojson"
    line = {"type": "LineString", "coordinates": [[104.0, 30.0], [104.0, 30.001]]}
    feature = {"type": "Feature", "id": "x", "properties": {"road_class": "branch"}, "geometry": line}
    p.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    df, rejected = read_geojson(p)
    assert df["segment_id"].to_list() == ["x"]
    assert rejected == {}
    (tmp_path / "bad.geojson").write_text("{not json")
    with pytest.raises(Invalid, match="readable"):
        read_geojson(tmp_path / "bad.geojson")
