from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import polars as pl
import pytest
import typer
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from cityos.mobility.forecast.commands import register
from cityos.mobility.forecast.features import build_features, feature_columns
from cityos.mobility.forecast.profile import add_profile_features
from cityos.mobility.forecast.series import prepare
from tests.mobility.forecast.helpers import T0, long_frame, mean_reverting


def test_profile_leaves_the_rows_own_value_out() -> None:
    # Three days, one value per day at each slot: 10, 20, 60.
    grid = prepare(long_frame({"a": [10.0] * 288 + [20.0] * 288 + [60.0] * 288})).grid
    feats = add_profile_features(build_features(grid), grid, "time_of_day", [15])
    row = feats.filter(pl.col("ts") == T0 + timedelta(days=1)).row(0, named=True)
    assert row["profile_now"] == pytest.approx((10 + 60) / 2)  # day two's own 20 left out
    assert row["hist_15"] == pytest.approx((10 + 60) / 2)
    assert row["dev_now"] == pytest.approx(20 - 35)
    # A time outside the training data gets the plain mean of all training days.
    train = grid.filter(pl.col("ts") < T0 + timedelta(days=2))
    later = add_profile_features(build_features(grid), train, "time_of_day", [15])
    row = later.filter(pl.col("ts") == T0 + timedelta(days=2)).row(0, named=True)
    assert row["profile_now"] == pytest.approx(15.0)
    assert row["hist_15"] == pytest.approx(15.0)
    # Profile columns are added per horizon by the model, not to the shared feature list.
    assert not {"profile_now", "dev_now", "hist_15", "hist_gap_15"} & set(feature_columns(later))


def test_a_slot_seen_only_on_its_own_day_has_no_profile() -> None:
    grid = prepare(long_frame({"a": [10.0] * 12})).grid
    feats = add_profile_features(build_features(grid), grid, "time_of_day", [15])
    assert feats["profile_now"].null_count() == feats.height


@contextmanager
def _no_session() -> Iterator[Session]:
    # The forecast command never opens the unit of work; a bare session stands in for it.
    yield Session()


def test_cli_backtest_prints_the_three_methods(tmp_path: Path) -> None:
    path = tmp_path / "series.parquet"
    mean_reverting(2, 3, seed=4).write_parquet(path)
    app = typer.Typer()
    register(app, _no_session)

    @app.command("noop")
    def noop() -> None:  # a second command keeps typer from collapsing the group
        pass

    result = CliRunner().invoke(app, ["forecast-backtest", "--table", str(path), "--threads", "1"])
    assert result.exit_code == 0, result.output
    for name in ("historical average", "last value", "model", "15 min", "60 min"):
        assert name in result.output
    refused = CliRunner().invoke(app, ["forecast-backtest"])
    assert refused.exit_code != 0
