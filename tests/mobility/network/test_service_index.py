import h3
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityos.core.errors import Conflict, Invalid, NotFound
from cityos.mobility.network import service
from cityos.mobility.network.index import SegmentIndex
from cityos.mobility.network.models import RoadSegment
from cityos.mobility.network.schema import grid_network

from .test_import import TINY


def test_save_and_load_round_trip(session: Session) -> None:
    grid = grid_network(4, 4, 250.0)
    net = service.save_segments(session, "grid4", grid, name="Test grid")
    assert net.segments == grid.height == 48
    assert net.min_lon is not None
    assert net.max_lon is not None
    assert net.min_lon < net.max_lon
    n = session.scalar(select(func.count()).select_from(RoadSegment).where(RoadSegment.network_id == net.id))
    assert n == 48
    back = service.load_segments(session, "grid4")
    assert back.equals(grid.sort("segment_id"))
    seg = session.scalar(select(RoadSegment).where(RoadSegment.segment_id == "n0_0-n0_1"))
    assert seg is not None
    assert seg.geometry["type"] == "LineString"
    assert h3.get_resolution(seg.h3_cell) == 9
    # bbox filter: the south-west corner only
    lo, la = grid["lons"][0][0], grid["lats"][0][0]
    part = service.load_segments(session, "grid4", bbox=(lo - 1e-4, la - 1e-4, lo + 1e-4, la + 1e-4))
    assert set(part["segment_id"]) == {"n0_0-n0_1", "n0_1-n0_0", "n0_0-n1_0", "n1_0-n0_0"}


def test_conflict_replace_delete(session: Session) -> None:
    service.save_segments(session, "g", grid_network(2, 2, 100.0))
    with pytest.raises(Conflict):
        service.save_segments(session, "g", grid_network(3, 3, 100.0))
    net = service.save_segments(session, "g", grid_network(3, 3, 100.0), replace=True)
    assert net.segments == 24
    assert service.load_segments(session, "g").height == 24
    with pytest.raises(Invalid):
        service.save_segments(session, "dup", grid_network(2, 2).vstack(grid_network(2, 2)))
    service.delete_network(session, "g")
    with pytest.raises(NotFound):
        service.load_segments(session, "g")


def test_import_sumo_and_geojson(session: Session) -> None:
    net = service.import_sumo(session, TINY, "tiny")
    assert (net.source, net.segments, net.source_ref) == ("sumo", 3, "tiny.net.xml")
    assert net.rejected == {"no lane for cars": 1, "shape with fewer than 2 points": 1}
    doc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": 7,
                "properties": {},
                "geometry": {"type": "LineString", "coordinates": [[104, 30], [104.01, 30]]},
            },
            {
                "type": "Feature",
                "properties": {},
                "geometry": {"type": "LineString", "coordinates": [[104, 30], [104.01, 30]]},
            },
        ],
    }
    g = service.import_geojson(session, doc, "gj")
    assert g.segments == 1
    assert g.rejected == {"no id": 1}
    assert [n.code for n in service.list_networks(session)] == ["gj", "tiny"]


def test_index_lookups() -> None:
    grid = grid_network(5, 5, 200.0)
    ix = SegmentIndex(grid)
    lon, lat = ix.point_on("n2_1-n2_2", 0.25)
    near = ix.nearest(lon, lat, radius_m=20.0)
    assert {c.segment_id for c in near} == {"n2_1-n2_2", "n2_2-n2_1"}
    fwd = next(c for c in near if c.segment_id == "n2_1-n2_2")
    assert fwd.distance_m == pytest.approx(0.0, abs=1e-6)
    assert fwd.offset_m == pytest.approx(50.0, abs=0.5)
    assert fwd.fraction == pytest.approx(0.25, abs=1e-6)
    # a junction sees its 8 incident segments; k limits and orders by distance
    jl, jla = ix.point_on("n2_2-n2_3", 0.0)
    assert len(ix.nearest(jl, jla, 1.0)) == 8
    batch = ix.query([jl, lon, jl + 1.0], [jla, lat, jla], radius_m=1.0, k=3)
    assert batch.group_by("point").len().sort("point")["len"].to_list() == [3, 2]
    assert ix.nearest(jl + 1.0, jla, 1000.0) == []
