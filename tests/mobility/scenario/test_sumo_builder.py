from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

from cityos.mobility.network.index import SegmentIndex
from cityos.mobility.network.schema import DEMO_CENTRE
from cityos.mobility.network.sumo_net import read_sumo_net
from cityos.mobility.scenario.generator import GeneratorConfig
from cityos.mobility.scenario.tables import read_scenario

pytest.importorskip("sumo")
pytest.importorskip("sumolib")

from cityos.mobility.scenario import sumo_builder  # noqa: E402


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("scenario")
    demand = GeneratorConfig(
        start=datetime(2026, 11, 30, 23, 45, tzinfo=UTC), duration_s=600, vehicles=120, gps_noise_m=4.0
    )
    steps: list[float] = []
    sumo_builder.build_scenario(
        sumo_builder.SumoConfig(rows=5, cols=5, spacing_m=200.0, demand=demand), out, lambda _m, f: steps.append(f)
    )
    assert steps[0] == 0.0
    assert steps[-1] == 1.0
    return out


def test_netgenerate_output_imports_at_the_demo_city(built: Path) -> None:
    seg, rejected = read_sumo_net(built / "sumo" / "city.net.xml")
    assert rejected == {}
    # 5 × 5 grid: 2 × (5·4 + 5·4) directed edges, none internal
    assert seg.height == 80
    assert not seg["segment_id"].str.starts_with(":").any()
    lons, lats = seg["lons"].explode(), seg["lats"].explode()
    assert (float(lons.min()) + float(lons.max())) / 2 == pytest.approx(DEMO_CENTRE[0], abs=2e-4)  # type: ignore[arg-type]
    assert (float(lats.min()) + float(lats.max())) / 2 == pytest.approx(DEMO_CENTRE[1], abs=2e-4)  # type: ignore[arg-type]
    # border and line 4 are arterials (3 lanes, 60 km/h), line 2 secondary, lines 1 and 3 branch
    by_class = seg.group_by("road_class").agg(pl.col("lanes").first(), pl.len()).sort("road_class")
    assert dict(zip(by_class["road_class"], by_class["lanes"], strict=True)) == {
        "arterial": 3,
        "branch": 1,
        "secondary": 2,
    }
    assert seg.filter(pl.col("road_class") == "arterial")["free_speed_kmh"].to_list()[0] == pytest.approx(60.0, abs=0.1)
    assert seg["length_m"].is_between(150, 200).all()


def test_scenario_tables(built: Path) -> None:
    sc = read_scenario(built)
    assert sc.probes.height > 200
    assert set(sc.probes["true_segment_id"]) <= set(sc.segments["segment_id"])
    ix = SegmentIndex(sc.segments)
    p = sc.probes.with_row_index("point").with_columns(pl.col("point").cast(pl.Int64))
    near = ix.query(p["lon"].to_numpy(), p["lat"].to_numpy(), radius_m=40.0)
    hit = near.join(p.select("point", pl.col("true_segment_id").alias("segment_id")), on=["point", "segment_id"])
    assert hit.height > 0.95 * p.height  # within 40 m of the edge SUMO says it was on
    arterials = set(sc.segments.filter(pl.col("road_class") == "arterial")["segment_id"])
    assert set(sc.loops["segment_id"]) == arterials
    assert set(sc.loop_counts["detector_id"]) == set(sc.loops["detector_id"])
    assert sc.loop_counts["count"].sum() > 0
    assert sc.edge_truth["entered"].sum() > 0
    assert sc.edge_truth["speed_kmh"].drop_nulls().max() <= 61.0  # type: ignore[operator]
