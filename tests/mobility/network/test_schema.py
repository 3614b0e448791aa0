import polars as pl
import pytest

from cityos.mobility.network.schema import (
    ROAD_CLASSES,
    SEGMENT_POLARS_SCHEMA,
    SEGMENT_SCHEMA,
    conform,
    grid_network,
)


def test_grid_network_shape_and_contract() -> None:
    df = grid_network(4, 5, 200.0)
    # two directions per link: rows*(cols-1) + cols*(rows-1) links
    assert df.height == 2 * (4 * 4 + 5 * 3)
    assert dict(df.schema) == SEGMENT_POLARS_SCHEMA
    # Polars' Arrow output (large lists, string views) casts losslessly to the contract schema.
    assert df.to_arrow().cast(SEGMENT_SCHEMA).num_rows == df.height
    assert df["segment_id"].n_unique() == df.height
    assert set(df["road_class"].unique()) <= set(ROAD_CLASSES)
    assert df["length_m"].min() == pytest.approx(200.0, rel=1e-3)
    assert df["length_m"].max() == pytest.approx(200.0, rel=1e-3)
    # every segment has its reverse, with the polyline reversed
    rev = df.select(
        pl.col("to_node").alias("from_node"), pl.col("from_node").alias("to_node"), pl.col("lons").alias("rl")
    )
    joined = df.join(rev, on=["from_node", "to_node"])
    assert joined.height == df.height
    assert all(a == list(reversed(b)) for a, b in zip(joined["lons"].to_list(), joined["rl"].to_list(), strict=True))


def test_grid_network_centred_and_bad_input() -> None:
    df = grid_network(3, 3, 500.0, centre_lon=104.0, centre_lat=30.0)
    lons = df["lons"].explode().to_list()
    lats = df["lats"].explode().to_list()
    assert (min(lons) + max(lons)) / 2 == pytest.approx(104.0, abs=1e-9)
    assert (min(lats) + max(lats)) / 2 == pytest.approx(30.0, abs=1e-9)
    with pytest.raises(ValueError, match="2 × 2"):
        grid_network(1, 3)
    with pytest.raises(ValueError, match="lanes"):
        conform(df.drop("lanes"))
    assert conform(df).equals(df)
