"""Peak corridors: the top flows between different zones, with the dominant matched path, else
the shortest travel-time path over the network, else a straight line; and the road graph."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
import pytest
from sqlalchemy.orm import Session

from cityos.core.errors import Invalid
from cityos.mobility.commute import corridors, service
from cityos.mobility.commute.derive import TRIP_COLUMNS
from cityos.mobility.commute.paths import RoadGraph
from cityos.mobility.network.schema import grid_network
from tests.mobility.commute.conftest import AM, PM, A, B, CommuteWorld, trip

DAY = date(2026, 12, 2)
PATH = ["n2_2-n2_3", "n2_3-n2_4", "n2_4-n2_5"]


def save(session: Session, rows: list[dict[str, object]]) -> None:
    service.save_trips(session, pl.DataFrame(rows, schema=TRIP_COLUMNS))


def test_the_dominant_matched_path_wins(session: Session, cw: CommuteWorld) -> None:
    other = ["n2_2-n3_2", "n3_2-n3_3"]
    save(
        session,
        [trip(f"m{i}", A, B, segments=PATH) for i in range(3)]
        + [trip("o1", A, B, segments=other), trip("e1", A, B), trip("e2", A, B)],
    )
    c = corridors.corridors(session, cw.operator, day=DAY, peak="am", network_code="cm-test")
    assert c.level == "district"  # trips cross from one district to the other
    assert c.network == "cm-test"
    (f,) = c.collection["features"]
    p = f["properties"]
    assert (p["origin_name"], p["dest_name"], p["trips"], p["path"], p["segments"]) == ("甲区", "乙区", 6, "matched", 3)
    coords = f["geometry"]["coordinates"]
    assert len(coords) == 4  # three straight segments joined end to end


def test_without_matched_segments_the_shortest_network_path(session: Session, cw: CommuteWorld) -> None:
    save(session, [trip("s1", A, B), trip("s2", B, A, at=PM)])
    am = corridors.corridors(session, cw.operator, day=DAY, peak="am", network_code="cm-test")
    (f,) = am.collection["features"]
    assert f["properties"]["path"] == "shortest"
    line = f["geometry"]["coordinates"]
    assert line[0][0] == pytest.approx(104.05, abs=0.01)  # from the node nearest 甲区's trip origins
    assert line[-1][0] == pytest.approx(104.15, abs=0.01)
    pm = corridors.corridors(session, cw.operator, day=DAY, peak="pm", network_code="cm-test")
    assert pm.collection["features"][0]["properties"]["origin_name"] == "乙区"


def test_far_from_the_network_a_straight_line(session: Session, cw: CommuteWorld) -> None:
    far_a, far_b = (104.01, 30.09), (104.19, 30.01)  # beyond the grid's reach (SNAP_M)
    save(session, [trip("f1", far_a, far_b)])
    c = corridors.corridors(session, cw.operator, day=DAY, network_code="cm-test")
    (f,) = c.collection["features"]
    assert f["properties"]["path"] == "straight"
    assert f["geometry"]["coordinates"] == [[104.01, 30.09], [104.19, 30.01]]


def test_auto_level_falls_back_to_cells_and_top_n(session: Session, cw: CommuteWorld) -> None:
    # Inside 甲区 only: no district-to-district flow, so the corridors are between H3 cells.
    west, mid = (104.02, 30.05), (104.08, 30.05)
    save(session, [trip(f"w{i}", west, mid) for i in range(3)] + [trip("x", mid, west), trip("same", A, A)])
    c = corridors.corridors(session, cw.operator, day=DAY, top=1, network_code="cm-test")
    assert c.level == "h3"
    assert [f["properties"]["trips"] for f in c.collection["features"]] == [3]
    district = corridors.corridors(session, cw.operator, day=DAY, level="district")
    assert district.collection["features"] == []  # a trip within one zone is no corridor


def test_no_network_means_straight_lines(session: Session, cw: CommuteWorld) -> None:
    save(session, [trip("n1", A, B, segments=PATH)])
    c = corridors.corridors(session, cw.operator, day=DAY, network_code="no-such-network")
    assert c.network is None
    assert c.collection["features"][0]["properties"]["path"] == "straight"


def test_bad_arguments(session: Session, cw: CommuteWorld) -> None:
    with pytest.raises(Invalid):
        corridors.corridors(session, cw.operator, day=DAY, peak="evening")
    with pytest.raises(Invalid):
        corridors.corridors(session, cw.operator, day=DAY, level="street")
    assert corridors.corridors(session, cw.operator, start=AM, end=AM + timedelta(hours=1)).collection["features"] == []


def test_the_road_graph_finds_the_fastest_path() -> None:
    g = RoadGraph(grid_network(3, 3, 500.0))
    sw, ne = g.node_index["n0_0"], g.node_index["n2_2"]
    node, dist = g.nearest(g.node_lon[ne] + 0.0001, g.node_lat[ne])
    assert node == ne
    assert dist == pytest.approx(9.6, abs=0.5)
    paths = g.shortest([(sw, sw), (sw, ne)])
    assert paths[0] == []
    path = paths[1]
    assert path is not None
    assert g.length_m(path) == pytest.approx(2000.0, rel=0.01)  # two blocks each way on a grid
    # The outer ring is expressway (80 km/h): the fastest way round is along it.
    assert [g.segment_ids[i] for i in path] in (
        ["n0_0-n0_1", "n0_1-n0_2", "n0_2-n1_2", "n1_2-n2_2"],
        ["n0_0-n1_0", "n1_0-n2_0", "n2_0-n2_1", "n2_1-n2_2"],
    )
    assert g.time_s(path) == pytest.approx(2000 / (80 / 3.6), rel=0.01)
    assert g.indexes(["nope", g.segment_ids[0]]) == [0]


def test_an_unreachable_node_has_no_path() -> None:
    seg = grid_network(2, 2, 300.0).filter(pl.col("from_node") != "n1_1")  # n1_1 has no way out
    g = RoadGraph(seg)
    assert g.shortest([(g.node_index["n1_1"], g.node_index["n0_0"])]) == [None]
    assert g.shortest([(g.node_index["n0_0"], g.node_index["n1_1"])])[0] is not None
