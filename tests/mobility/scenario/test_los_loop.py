from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from cityos.core.errors import Invalid, NotFound
from cityos.mobility.scenario import los_loop

pytestmark = pytest.mark.skipif(not los_loop.DEFAULT_DIR.is_dir(), reason="Los-loop data not present")


def test_real_week_shape() -> None:
    data = los_loop.load_los_loop()
    assert data.sensors.height == 207
    assert data.speeds.height == 207 * 2016
    assert data.steps == 2016
    assert data.rejected == {}
    assert data.speeds.schema["ts"] == pl.Datetime("us", "UTC")
    first = data.speeds.filter(pl.col("sensor_id") == "773869").head(2)
    assert first["ts"].to_list() == [los_loop.DEFAULT_ANCHOR, los_loop.DEFAULT_ANCHOR + timedelta(minutes=5)]
    # the first value in the file is 64.375 mph
    assert first["speed_kmh"][0] == pytest.approx(64.375 * 1.609344)
    # Los Angeles
    assert data.sensors["lon"].is_between(-119, -117).all()
    assert data.sensors["lat"].is_between(33.5, 34.5).all()
    edges = data.adjacency_edges()
    assert edges.height > 0
    assert edges.filter(pl.col("from_sensor") == pl.col("to_sensor")).height == 0


def test_bad_speeds_counted(tmp_path: Path) -> None:
    (tmp_path / "sensor_locations.csv").write_text(
        "index,sensor_id,latitude,longitude\n0,1,34.0,-118.0\n1,2,34.1,-118.1\n"
    )
    (tmp_path / "los_speed.csv").write_text("1,2\n60,0\n61,x\n62,63\n")
    (tmp_path / "los_adj.csv").write_text("1,0.5\n0.5,1\n")
    anchor = datetime(2024, 1, 1, tzinfo=UTC)
    data = los_loop.load_los_loop(tmp_path, anchor)
    assert data.rejected == {"speed not a positive number": 2}
    assert data.speeds.height == 4
    assert data.speeds.filter(pl.col("sensor_id") == "2")["step"].to_list() == [2]
    assert data.adjacency_edges().height == 2
    with pytest.raises(Invalid, match="timezone"):
        los_loop.load_speeds(tmp_path, datetime(2024, 1, 1))  # noqa: DTZ001
    with pytest.raises(NotFound):
        los_loop.load_los_loop(tmp_path / "nowhere")
