"""Five vital signs against hand-computed numbers; the local runner's partitions agree."""

from __future__ import annotations

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from cityos.core.errors import Invalid
from cityos.mobility.indicators.config import IndicatorConfig
from cityos.mobility.indicators.fusion import FUSED_SCHEMA, FusionKernel, check, split_checked
from cityos.mobility.indicators.pipeline import compute_local
from cityos.mobility.indicators.runners import run_local
from cityos.mobility.indicators.vitals import bin_incidents, membership, tpi_expr, vital_signs
from tests.mobility.indicators.data import T0, at, many_observations, segments

CFG = IndicatorConfig()


def _fused_rows(rows: list[tuple[str, float, float | None, int]]) -> pl.DataFrame:
    """(segment_id, fused speed, loop flow, state) on T0, with the segment's attributes."""
    base = pl.DataFrame(rows, schema=["segment_id", "speed_kmh", "flow_veh", "state"], orient="row")
    empty = pl.from_arrow(FUSED_SCHEMA.empty_table())
    assert isinstance(empty, pl.DataFrame)
    seg = segments().select("segment_id", "road_class", "length_m", "lanes", "free_speed_kmh")
    filled = base.join(seg, on="segment_id").with_columns(
        pl.lit(T0).alias("bin_start"),
        pl.lit(False).alias("disagree"),
        pl.lit(0.0).alias("probe_n"),
        pl.col("state").cast(pl.Int8),
    )
    return filled.with_columns(pl.lit("city").alias("level"), pl.lit("city").alias("area_id"))


def test_hand_computed_vital_signs() -> None:
    # e1 expressway 2 km at 40 km/h with 100 vehicles (state 3); a1 arterial 1 km at 15 with 60
    # (state 5); s1 secondary 0.4 km at 20, no loop → weight 1 lane × 50 (state 3).
    fused = _fused_rows([("e1", 40.0, 100.0, 3), ("a1", 15.0, 60.0, 5), ("s1", 20.0, None, 3)])
    incidents = bin_incidents(pl.DataFrame({"area_id": ["city"], "ts": [at(2)], "count": [2]}), CFG)
    row = vital_signs(fused, incidents, CFG).row(0, named=True)
    # w·L = 200, 60, 20 (Σ 280); w·L/v = 5, 4, 1 (Σ 10); w·L/v_ff = 2.5, 1, 0.5 (Σ 4).
    assert row["tti"] == pytest.approx(10 / 4)
    assert row["congested_ratio"] == pytest.approx(60 / 280)
    assert row["tpi"] == pytest.approx(8 + (60 / 280 - 0.14) * 2 / 0.10)
    assert row["tpi_band"] == 5
    assert row["tpi_band_name"] == "严重拥堵"
    assert row["vkt_km"] == pytest.approx(260.0)  # measured flow only: 100·2 + 60·1
    assert row["vehicles"] == 160
    assert row["segments"] == 3
    assert row["vkt_coverage"] == pytest.approx(3 / 3.4)
    assert row["arterial_speed_kmh"] == pytest.approx(15.0)
    assert row["expressway_speed_kmh"] == pytest.approx(40.0)
    assert row["incidents"] == 2
    assert row["safety_index"] == pytest.approx(2 / (260 / 1e6))


def test_no_measured_vkt_leaves_the_safety_index_undefined() -> None:
    fused = _fused_rows([("s1", 20.0, None, 3)])
    row = vital_signs(fused, None, CFG).row(0, named=True)
    assert row["vkt_km"] == 0
    assert row["safety_index"] is None
    assert row["incidents"] == 0
    assert row["arterial_speed_kmh"] is None
    assert row["expressway_speed_kmh"] is None


@pytest.mark.parametrize(
    ("ratio", "tpi", "band"),
    [(0.0, 0.0, 1), (0.02, 1.0, 1), (0.04, 2.0, 2), (0.095, 5.0, 3), (0.125, 7.0, 4), (0.14, 8.0, 5), (0.5, 10.0, 5)],
)
def test_tpi_mapping_and_bands(ratio: float, tpi: float, band: int) -> None:
    fused = _fused_rows([("a1", 10.0, 100.0, 5), ("e1", 90.0, 100.0 * (1 - ratio) / ratio / 2 if ratio else 100.0, 1)])
    if ratio == 0.0:
        fused = fused.with_columns(pl.lit(1, dtype=pl.Int8).alias("state"))
    row = vital_signs(fused, None, CFG).row(0, named=True)
    assert row["congested_ratio"] == pytest.approx(ratio)
    assert row["tpi"] == pytest.approx(tpi)
    assert row["tpi_band"] == band
    direct = pl.select(tpi_expr(pl.lit(ratio), CFG)).item()
    assert direct == pytest.approx(tpi)


def test_city_district_and_corridor_from_observations() -> None:
    segs = segments()
    areas = membership(segs, district_col="district", corridors={"C1": ["e1", "a1"]})
    incidents = pl.DataFrame({"area_id": ["city", "510104", "nowhere"], "ts": [at(3)] * 3, "count": [2, 1, 4]})
    result = compute_local(many_observations(), segs, areas, incidents)
    v = result.vitals
    assert set(v["level"].unique()) == {"city", "district", "corridor"}
    city = v.filter(pl.col("level") == "city").sort("bin_start")
    by_district = v.filter(pl.col("level") == "district").group_by("bin_start")
    districts = by_district.agg(pl.col("vkt_km").sum()).sort("bin_start")
    assert city["vkt_km"].to_list() == pytest.approx(districts["vkt_km"].to_list())
    assert city.filter(pl.col("bin_start") == T0)["incidents"].item() == 2
    assert result.unmatched_incidents["area_id"].to_list() == ["nowhere"]
    assert result.quarantine.height == 5
    assert result.segments.height == 36


def test_unknown_corridor_member_is_refused() -> None:
    with pytest.raises(Invalid):
        membership(segments(), corridors={"C9": ["e1", "ghost"]})


def test_partitioned_local_run_equals_one_call() -> None:
    segs = segments()
    good, _ = split_checked(check(many_observations(), segs["segment_id"].to_list(), CFG))
    kernel = FusionKernel(segs, CFG)
    whole = run_local(kernel, good.to_arrow())
    parts = run_local(kernel, good, by=["segment_id"])
    arrow = pl.from_arrow(kernel(good.to_arrow()))  # the face Spark calls
    keys = ["segment_id", "bin_start"]
    # Same rows; floats equal up to summation order.
    assert_frame_equal(whole.sort(keys), parts.sort(keys), rel_tol=1e-12)
    assert isinstance(arrow, pl.DataFrame)
    assert_frame_equal(whole.sort(keys), arrow.sort(keys), rel_tol=1e-12)
