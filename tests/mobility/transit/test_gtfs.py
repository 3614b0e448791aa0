"""Reading and checking GTFS feeds: the real samples, and every refusal with its field message."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from cityos.core.errors import Invalid
from cityos.mobility.transit.gtfs import read_feed
from tests.mobility.transit.conftest import GridFeed, sample_feed

GOOD = {
    "agency.txt": "agency_id,agency_name,agency_url,agency_timezone\nA,Bus,https://example.org,Asia/Shanghai\n",
    "routes.txt": "route_id,route_short_name,route_long_name,route_type\nR1,1,One,3\n",
    "stops.txt": "stop_id,stop_name,stop_lat,stop_lon\nS1,First,30.65,104.06\nS2,Second,30.66,104.07\n",
    "trips.txt": "route_id,service_id,trip_id\nR1,D,T1\n",
    "stop_times.txt": (
        "trip_id,arrival_time,departure_time,stop_id,stop_sequence\n"
        "T1,07:00:00,07:00:00,S1,1\nT1,25:10:00,25:10:00,S2,2\n"
    ),
}


def _zip(tmp_path: Path, files: dict[str, str]) -> Path:
    path = tmp_path / "feed.zip"
    with zipfile.ZipFile(path, "w") as z:
        for name, text in files.items():
            z.writestr(name, text)
    return path


def _messages(exc: pytest.ExceptionInfo[Invalid]) -> list[tuple[str, str, dict[str, object]]]:
    return [(d.field, d.message, d.params) for d in exc.value.details]


def test_the_cairns_feed_reads_with_its_counts() -> None:
    g = read_feed(sample_feed("cairns_gtfs.zip"))
    assert (g.routes.height, g.stops.height, g.trips.height) == (22, 416, 1339)
    assert g.stop_times.height == 37790
    assert g.timezone == "Australia/Brisbane"
    assert g.stop_times["arrival_s"].null_count() == 0
    assert set(g.trips["shape_id"].drop_nulls()) <= set(g.shapes["shape_id"])
    assert {w["code"] for w in g.warnings} == {"times_interpolated"}  # 65 non-timepoint times


def test_a_feed_without_shapes_gets_them_from_its_stops() -> None:
    g = read_feed(sample_feed("sample_gtfs.zip"))
    assert g.shapes["derived"].all()
    assert g.trips["shape_id"].null_count() == 0
    assert {"code": "trips_without_shapes", "count": 11} in g.warnings


def test_times_past_midnight_and_a_missing_middle_time(tmp_path: Path) -> None:
    files = dict(GOOD)
    files["stops.txt"] += "S3,Third,30.67,104.08\n"
    files["stop_times.txt"] = (
        "trip_id,arrival_time,departure_time,stop_id,stop_sequence\n"
        "T1,07:00:00,07:00:00,S1,1\nT1,,,S3,2\nT1,25:10:00,25:10:00,S2,3\n"
    )
    g = read_feed(_zip(tmp_path, files))
    assert g.stop_times["arrival_s"].to_list() == [25200, 57900, 90600]
    assert {"code": "times_interpolated", "count": 1} in g.warnings


def test_the_grid_feed_is_clean(grid_feed: GridFeed) -> None:
    g = read_feed(grid_feed.path)
    assert g.warnings == []
    assert g.trips.height == len(grid_feed.trips)


def test_not_a_zip_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "feed.zip"
    path.write_text("routes")
    with pytest.raises(Invalid) as exc:
        read_feed(path)
    assert _messages(exc) == [("file", "The file is not a GTFS zip archive.", {})]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda f: f.pop("stops.txt"), ("The feed lacks %(file)s.", {"file": "stops.txt"})),
        (
            lambda f: f.update({"trips.txt": "route_id,trip_id\nR1,T1\n"}),
            ("%(file)s lacks the column %(column)s.", {"file": "trips.txt", "column": "service_id"}),
        ),
        (
            lambda f: f.update({"trips.txt": "route_id,service_id,trip_id\nR9,D,T1\n"}),
            (
                "%(count)s rows of %(file)s refer to an unknown %(column)s.",
                {"file": "trips.txt", "column": "route_id", "count": 1},
            ),
        ),
        (
            lambda f: f.update({"stops.txt": "stop_id,stop_name,stop_lat,stop_lon\nS1,a,30.6,104\nS2,b,95,104\n"}),
            ("%(count)s stops have no coordinates or coordinates out of range.", {"count": 1}),
        ),
        (
            lambda f: f.update({"routes.txt": "route_id,route_type\nR1,3\nR1,3\n"}),
            (
                "%(file)s repeats %(count)s values of %(column)s.",
                {"file": "routes.txt", "column": "route_id", "count": 1},
            ),
        ),
        (
            lambda f: f.update(
                {"stop_times.txt": "trip_id,arrival_time,departure_time,stop_id,stop_sequence\nT1,7h,7h,S1,1\n"}
            ),
            ("%(count)s trips of stop_times.txt have no valid arrival or departure time.", {"count": 1}),
        ),
        (
            lambda f: f.update(
                {"stop_times.txt": "trip_id,arrival_time,departure_time,stop_id,stop_sequence\nT1,07:00:00,,S9,1\n"}
            ),
            (
                "%(count)s rows of %(file)s refer to an unknown %(column)s.",
                {"file": "stop_times.txt", "column": "stop_id", "count": 1},
            ),
        ),
    ],
)
def test_a_feed_with_errors_is_refused_field_by_field(tmp_path: Path, change, expected) -> None:  # type: ignore[no-untyped-def]
    files = dict(GOOD)
    change(files)
    with pytest.raises(Invalid) as exc:
        read_feed(_zip(tmp_path, files))
    assert ("file", *expected) in _messages(exc)


def test_a_broken_table_is_refused(tmp_path: Path) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("routes.txt", b"\xff\xfe\x00broken")
    path = tmp_path / "x.zip"
    path.write_bytes(buf.getvalue())
    with pytest.raises(Invalid) as exc:
        read_feed(path)
    assert exc.value.details[0].field == "file"
