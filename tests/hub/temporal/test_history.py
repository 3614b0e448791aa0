"""Temporal queries at the service level: windows, lastN, paging, aggregations by hand."""

from __future__ import annotations

import math
import re
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from cityos.core.errors import Invalid
from cityos.hub.temporal import history
from cityos.hub.temporal.aggregate import aggregate
from cityos.hub.temporal.params import Duration, parse_duration, parse_window
from tests.hub.temporal.helpers import FILL, START, STATUS, T, bin_id, seed


def q(**kw: object) -> history.TemporalQuery:
    return history.TemporalQuery(tenant=kw.pop("tenant", "default"), **kw)  # type: ignore[arg-type]


def window(rel: str, at: object, end: object = None) -> object:
    def fmt(v: object) -> str | None:
        return None if v is None else (START + timedelta(hours=v)).isoformat()  # type: ignore[operator]

    return parse_window(rel, fmt(at), fmt(end), None)


def test_windows_select_instances(session: Session) -> None:
    seed(session)
    page = history.run(session, q(window=window("between", 1, 3), types=(T,), attrs=(FILL,)), None)
    assert page.count == 3
    assert [e for e, _ in page.entities] == [bin_id(1), bin_id(2), bin_id(3)]
    values = page.rows.filter(page.rows["entity_id"] == bin_id(2)).get_column("value_num").to_list()
    assert values == [21.0, 22.0]  # between: timeAt <= t < endTimeAt
    after = history.run(session, q(window=window("after", 4), ids=(bin_id(1),), attrs=(FILL,)), None)
    assert after.rows.get_column("value_num").to_list() == [15.0]  # after: t > timeAt
    before = history.run(session, q(window=window("before", 2), ids=(bin_id(1),), attrs=(FILL,)), None)
    assert before.rows.get_column("value_num").to_list() == [10.0, 11.0]


def test_last_n_paging_and_pattern(session: Session) -> None:
    seed(session)
    page = history.run(session, q(window=window("after", -1), types=(T,), last_n=2, limit=2, offset=1), None)
    assert page.count == 3
    assert [e for e, _ in page.entities] == [bin_id(2), bin_id(3)]
    fill2 = page.rows.filter((page.rows["entity_id"] == bin_id(2)) & (page.rows["attr"] == FILL))
    assert fill2.get_column("value_num").to_list() == [24.0, 25.0]
    status3 = page.rows.filter((page.rows["entity_id"] == bin_id(3)) & (page.rows["attr"] == STATUS))
    assert status3.get_column("value_text").to_list() == ["full", "full"]
    pattern = history.run(session, q(window=window("after", -1), id_pattern=re.compile(r":00[13]$")), None)
    assert [e for e, _ in pattern.entities] == [bin_id(1), bin_id(3)]
    tested = history.run(
        session, q(window=window("after", -1), types=(T,), entity_test=lambda i, _t: i.endswith("2")), None
    )
    assert [e for e, _ in tested.entities] == [bin_id(2)]


def test_tenants_are_apart(session: Session) -> None:
    seed(session, tenant="north", bins=1)
    assert history.run(session, q(window=window("after", -1), types=(T,)), None).count == 0
    assert history.run(session, q(tenant="north", window=window("after", -1), types=(T,)), None).count == 1


def test_aggregations_match_hand_computed(session: Session) -> None:
    seed(session, bins=1, hours=6)  # fill 10, 11, 12, 13, 14, 15 at hours 0..5
    w = window("between", 0, 6)
    query = q(window=w, ids=(bin_id(1),))
    page = history.run(session, query, None, aggregated=True)
    methods = ("totalCount", "distinctCount", "sum", "avg", "min", "max", "stddev", "sumsq")
    out = aggregate(page.rows, methods=methods, period=parse_duration("PT3H"), window=w)
    fill = out[(bin_id(1), FILL, None)]
    assert [p[0] for p in fill["totalCount"]] == [3, 3]
    assert [p[0] for p in fill["sum"]] == [33, 42]
    assert [p[0] for p in fill["avg"]] == [11, 14]
    assert [p[0] for p in fill["min"]] == [10, 13]
    assert [p[0] for p in fill["max"]] == [12, 15]
    assert [p[0] for p in fill["sumsq"]] == [100 + 121 + 144, 169 + 196 + 225]
    assert fill["stddev"][0][0] == pytest.approx(1.0)  # sample standard deviation of 10, 11, 12
    assert fill["sum"][0][1:] == ["2026-11-30T00:00:00Z", "2026-11-30T03:00:00Z"]
    assert fill["sum"][1][1:] == ["2026-11-30T03:00:00Z", "2026-11-30T06:00:00Z"]
    status = out[(bin_id(1), STATUS, None)]
    assert [p[0] for p in status["distinctCount"]] == [1, 2]  # ok | ok, full
    assert [p[0] for p in status["sum"]] == [None, None]
    whole = aggregate(page.rows, methods=("avg", "stddev"), period=None, window=w)
    avg = whole[(bin_id(1), FILL, None)]["avg"]
    assert avg == [[12.5, "2026-11-30T00:00:00Z", "2026-11-30T06:00:00Z"]]
    expected_sd = math.sqrt(sum((x - 12.5) ** 2 for x in range(10, 16)) / 5)
    assert whole[(bin_id(1), FILL, None)]["stddev"][0][0] == pytest.approx(expected_sd)


def test_durations_and_windows_refuse_bad_input() -> None:
    assert parse_duration("PT1H") == Duration(0, timedelta(hours=1))
    assert parse_duration("P1DT30M") == Duration(0, timedelta(days=1, minutes=30))
    assert parse_duration("P1M").months == 1
    assert parse_duration("PT0S").zero
    for bad in ("", "P", "PT", "1H", "P1H", "PT1D", "P1DT", "PTXS"):
        with pytest.raises(Invalid) as exc:
            parse_duration(bad)
        assert exc.value.details[0].field == "aggrPeriodDuration"
    cases = [
        ((None, None, None, None), {"timerel"}),
        (("during", "2026-11-30T00:00:00Z", None, None), {"timerel"}),
        (("after", None, None, None), {"timeAt"}),
        (("after", "yesterday", None, None), {"timeAt"}),
        (("between", "2026-11-30T00:00:00Z", None, None), {"endTimeAt"}),
        (("between", "2026-11-30T00:00:00Z", "2026-11-29T00:00:00Z", None), {"endTimeAt"}),
        (("after", "2026-11-30T00:00:00Z", None, "seenAt"), {"timeproperty"}),
    ]
    for args, fields in cases:
        with pytest.raises(Invalid) as exc:
            parse_window(*args)
        assert {d.field for d in exc.value.details} == fields, args


def test_month_periods_follow_the_calendar() -> None:
    from datetime import UTC, datetime

    month = parse_duration("P1M")
    assert month.add_to(datetime(2026, 1, 31, tzinfo=UTC)) == datetime(2026, 2, 28, tzinfo=UTC)
    assert month.add_to(datetime(2026, 12, 1, tzinfo=UTC)) == datetime(2027, 1, 1, tzinfo=UTC)


def test_an_offset_whose_plus_became_a_space_is_read_as_meant() -> None:
    from datetime import UTC, datetime

    w = parse_window("after", "2026-11-30T08:00:00 08:00", None, None)
    assert w.time_at == datetime(2026, 11, 30, 0, 0, tzinfo=UTC)
    assert parse_window("after", "2026-11-30", None, None).time_at == datetime(2026, 11, 30, tzinfo=UTC)
