"""Replaying a scenario as a live feed: time shift, order, batches, N× pacing on a fake clock,
jams, the in-process and HTTP senders, and the command's bad arguments."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import typer
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from cityos.core.errors import Invalid
from cityos.mobility.ingest.models import NavSpeed, ProbePoint, TrafficObservation
from cityos.mobility.network.schema import grid_network
from cityos.mobility.network.service import save_segments
from cityos.mobility.scenario import commands as scenario_commands
from cityos.mobility.scenario import replay
from cityos.mobility.scenario.generator import GeneratorConfig, generate
from cityos.mobility.scenario.tables import ScenarioTables

START = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)  # 08:00 in the city: the morning peak
JAM_SEG = "n0_0-n0_1"  # on the outer ring: an expressway with a loop detector


@pytest.fixture(scope="module")
def tables() -> ScenarioTables:
    cfg = GeneratorConfig(start=START, duration_s=1800, vehicles=300, probe_interval_s=20, seed=3)
    return generate(grid_network(3, 3, 300.0), cfg)


class FakeClock:
    def __init__(self) -> None:
        self.t = 1000.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.t += seconds


class Recorder:
    def __init__(self, clock: FakeClock | None = None) -> None:
        self.clock = clock
        self.calls: list[tuple[float, str, list[dict[str, Any]]]] = []
        self.bins: list[datetime] = []

    def send(self, source: str, records: list[dict[str, Any]], *, at: datetime) -> replay.SendResult:
        assert at >= datetime(2026, 1, 1, tzinfo=UTC)
        self.calls.append((self.clock.t if self.clock else 0.0, source, records))
        return replay.SendResult(accepted=len(records))

    def after_bin(self, until: datetime) -> None:
        self.bins.append(until)


def _ts(record: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(record["ts"])


def test_parse_jam() -> None:
    assert replay.parse_jam("n0_0-n0_1:10:20:0.2") == replay.Jam("n0_0-n0_1", 10.0, 20.0, 0.2)
    assert replay.parse_jam("edge:with:colons:5:5:0.5").segment_id == "edge:with:colons"
    bad_jams = ("n0_0-n0_1", "n0_0-n0_1:10:20", ":1:2:0.5", "s:a:2:0.5", "s:1:2:nan", "s:1:2:1", "s:1:2:0")
    bad_jams += ("s:-1:2:0.5",)
    for bad in bad_jams:
        with pytest.raises(Invalid) as exc:
            replay.parse_jam(bad)
        assert exc.value.details[0].field == "jam"
    with pytest.raises(Invalid):
        replay.parse_jam("s:1:0:0.5")


def test_plan_shifts_times_and_orders_by_availability(tables: ScenarioTables) -> None:
    start = datetime(2026, 12, 3, 9, 7, 31, tzinfo=UTC)
    p = replay.plan(tables, start=start, interval_s=60)
    assert p.start == datetime(2026, 12, 3, 9, 5, tzinfo=UTC)  # floored to 5 minutes
    assert p.batches == 30
    assert p.end == p.start + timedelta(minutes=30)
    batches = list(p)
    assert [b.index for b in batches] == list(range(30))
    assert sum(b.size for b in batches) == p.total
    n_probe = sum(len(b.records.get("probe", [])) for b in batches)
    assert n_probe == tables.probes.height
    shift = p.start - START
    first_probe = batches[0].records["probe"][0]
    assert _ts(first_probe) - shift >= START
    for b in batches:
        for r in b.records.get("probe", []):
            assert b.due - timedelta(seconds=60) <= _ts(r) <= b.due  # a fix goes in the minute it was made
        for source in ("loop", "nav"):
            for r in b.records.get(source, []):
                end = _ts(r) + timedelta(seconds=r["interval_s"])
                assert b.due - timedelta(seconds=60) < end <= b.due  # an interval goes once it has ended
    loops = [r for b in batches for r in b.records.get("loop", [])]
    assert loops
    assert {r["lane"] for r in loops} == {0}
    assert all(0 <= r["occupancy"] <= 1 for r in loops)
    probe = batches[3].records["probe"][0]
    assert probe["kind"] in ("taxi", "ridehail")
    assert isinstance(probe["occupied"], bool)
    nav = next(r for b in batches for r in b.records.get("nav", []))
    assert nav["provider"] == replay.NAV_PROVIDER
    assert nav["samples"] >= 1


def test_plan_without_nav_and_bad_interval(tables: ScenarioTables) -> None:
    p = replay.plan(tables, start=START, nav=False)
    assert all("nav" not in b.records for b in p)
    for bad in (0, 7, 600):
        with pytest.raises(Invalid) as exc:
            replay.plan(tables, start=START, interval_s=bad)
        assert exc.value.details[0].field == "interval"


def test_run_keeps_n_times_real_time_on_a_fake_clock(tables: ScenarioTables) -> None:
    clock = FakeClock()
    sender = Recorder(clock)
    p = replay.plan(tables, start=START, interval_s=60)
    seen: list[replay.Progress] = []
    result = replay.run(p, sender, speed=60, clock=clock, on_batch=seen.append)
    assert result.accepted == p.total
    assert clock.t - 1000.0 == pytest.approx(30.0)  # 30 simulated minutes at 60× take 30 s
    assert all(s > 0 for s in clock.slept)
    # each batch is sent when its simulated minute has passed: batch k at (k + 1) real seconds
    times = sorted({t for t, _, _ in sender.calls})
    assert times[0] == pytest.approx(1001.0)
    assert all(abs(t - round(t)) < 1e-9 for t in times)
    # per batch the sources go in a fixed order, and record times never go backwards per source
    last: dict[str, datetime] = {}
    for _, source, recs in sender.calls:
        for r in recs:
            avail = _ts(r) + timedelta(seconds=r.get("interval_s", 0))
            assert avail >= last.get(source, avail)
            last[source] = avail
    # the monitor hook after every simulated 5 minutes
    assert sender.bins == [p.start + timedelta(minutes=5 * i) for i in range(1, 7)]
    assert seen[-1].sent == p.total
    assert seen[-1].lag_s == 0


def test_run_falls_behind_without_sleeping_when_sending_is_slow(tables: ScenarioTables) -> None:
    clock = FakeClock()

    class Slow(Recorder):
        def send(self, source: str, records: list[dict[str, Any]], *, at: datetime) -> replay.SendResult:
            clock.t += 5.0  # each request takes 5 s: far slower than 1 s per batch
            return super().send(source, records, at=at)

    seen: list[replay.Progress] = []
    replay.run(replay.plan(tables, start=START), Slow(clock), speed=60, clock=clock, on_batch=seen.append)
    assert seen[-1].lag_s > 0
    with pytest.raises(Invalid):
        replay.run(replay.plan(tables, start=START), Recorder(), speed=0, clock=clock)


def test_large_batches_are_split(tables: ScenarioTables) -> None:
    sender = Recorder()
    p = replay.plan(tables, start=START, interval_s=300)
    replay.run(p, sender, speed=100_000, clock=FakeClock())
    assert max(len(r) for _, _, r in sender.calls) <= replay.MAX_BATCH


def test_jam_slows_the_segment_in_its_window_only(tables: ScenarioTables) -> None:
    jam = replay.Jam(JAM_SEG, 10, 10, 0.25)
    plain = replay.feed_frames(tables)
    jammed = replay.feed_frames(tables, jams=[jam])
    a, b = START + timedelta(minutes=10), START + timedelta(minutes=20)
    truth = tables.probes.select("true_segment_id", "ts")
    p0, p1 = plain["probe"], jammed["probe"]
    # feed_frames sorts by availability; join back to the true segment by vehicle and time
    p0 = p0.join(tables.probes.select("vehicle_id", "ts", "true_segment_id"), on=["vehicle_id", "ts"])
    p1 = p1.join(tables.probes.select("vehicle_id", "ts", "true_segment_id"), on=["vehicle_id", "ts"])
    both = p0.join(p1, on=["vehicle_id", "ts"], suffix="_j")
    on = both.filter((pl.col("true_segment_id") == JAM_SEG) & (pl.col("ts") >= a) & (pl.col("ts") < b))
    off = both.filter(~((pl.col("true_segment_id") == JAM_SEG) & (pl.col("ts") >= a) & (pl.col("ts") < b)))
    assert on.height > 0
    assert truth.height == both.height
    assert ((on["speed_kmh_j"] - on["speed_kmh"] * 0.25).abs() <= 0.06).all()
    assert (off["speed_kmh_j"] == off["speed_kmh"]).all()
    loops = plain["loop"].join(jammed["loop"], on=["detector_id", "ts"], suffix="_j")
    hit = loops.filter((pl.col("segment_id") == JAM_SEG) & (pl.col("ts") >= a) & (pl.col("ts") < b))
    miss = loops.filter((pl.col("segment_id") != JAM_SEG) | (pl.col("ts") < a) | (pl.col("ts") >= b))
    assert hit.height == 2  # two 5-minute loop intervals
    moving = hit.filter(pl.col("speed_kmh").is_not_null())
    assert ((moving["speed_kmh_j"] - moving["speed_kmh"] * 0.25).abs() <= 0.06).all()
    assert (hit["occupancy_j"] >= hit["occupancy"]).all()
    assert miss.filter(pl.col("speed_kmh_j") != pl.col("speed_kmh")).height == 0
    nav = plain["nav"].join(jammed["nav"], on=["segment_id", "ts"], suffix="_j")
    nhit = nav.filter((pl.col("segment_id") == JAM_SEG) & (pl.col("ts") >= a) & (pl.col("ts") < b))
    assert nhit.height > 0
    assert (nhit["speed_kmh_j"] < nhit["speed_kmh"]).all()
    with pytest.raises(Invalid) as exc:
        replay.feed_frames(tables, jams=[replay.Jam("nowhere", 0, 5, 0.5)])
    assert exc.value.details[0].params == {"segment": "nowhere"}


def test_in_process_sender_ingests_through_the_service(session: Session, tables: ScenarioTables) -> None:
    save_segments(session, "replay-grid", tables.segments)
    start = datetime.now(UTC) - timedelta(hours=2)
    p = replay.plan(tables, start=start, jams=[replay.Jam(JAM_SEG, 0, 30, 0.2)])
    sender = replay.InProcessSender(session, compute=False)
    assert sender.check(tables) == "replay-grid"
    result = replay.run(p, sender, speed=100_000, clock=FakeClock())
    n_loop = p.frames["loop"].height
    n_nav = p.frames["nav"].height
    assert result.accepted + result.duplicates + result.quarantined == p.total
    assert result.quarantined < p.frames["probe"].height * 0.05  # a few noisy fixes off the grid at most
    assert session.scalar(select(func.count()).select_from(TrafficObservation)) == n_loop
    assert session.scalar(select(func.count()).select_from(NavSpeed)) == n_nav
    probes = session.scalar(select(func.count()).select_from(ProbePoint).where(ProbePoint.segment_id == JAM_SEG))
    assert probes
    assert probes > 0
    # a second run of the same plan stores nothing twice
    again = replay.run(p, sender, speed=100_000, clock=FakeClock())
    assert again.accepted == 0
    assert again.duplicates + again.quarantined == p.total


def test_in_process_sender_checks_the_network(session: Session, tables: ScenarioTables) -> None:
    sender = replay.InProcessSender(session, network_code="absent")
    with pytest.raises(replay.ReplayError):
        sender.check(tables)
    save_segments(
        session,
        "elsewhere",
        grid_network(3, 3, 300.0, centre_lon=100.0, centre_lat=20.0).with_columns(
            (pl.lit("x") + pl.col("segment_id")).alias("segment_id")
        ),
    )
    with pytest.raises(replay.ReplayError) as exc:
        replay.InProcessSender(session).check(tables)
    assert exc.value.params == {"network": "elsewhere"}


# the command ---------------------------------------------------------------------------


def _app(session: Session) -> typer.Typer:
    @contextmanager
    def work() -> Iterator[Session]:
        yield session

    app = typer.Typer()
    scenario_commands.register(app, work)
    return app


@pytest.fixture
def folder(tmp_path: Path, tables: ScenarioTables) -> Path:
    tables.write(tmp_path / "sc")
    return tmp_path / "sc"


def test_replay_command_in_process(session: Session, folder: Path, tables: ScenarioTables) -> None:
    save_segments(session, "replay-grid", tables.segments)
    args = ["replay", str(folder), "--speed", "100000", "--jam", f"{JAM_SEG}:5:10:0.2", "--no-compute"]
    r = CliRunner().invoke(_app(session), args)
    assert r.exit_code == 0, r.output
    assert "accepted" in r.output
    assert session.scalar(select(func.count()).select_from(TrafficObservation)) == tables.loop_counts.height
    newest = session.scalar(select(func.max(TrafficObservation.ts)))
    assert newest is not None
    assert newest.replace(tzinfo=UTC) <= datetime.now(UTC)


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--jam", "nonsense"], "SEGMENT:FROM_MIN:MINUTES:FACTOR"),
        (["--jam", f"{JAM_SEG}:5:10:3"], "factor"),
        (["--jam", "nowhere:5:10:0.5"], "nowhere"),
        (["--speed", "0"], "speed"),
        (["--start", "yesterday"], "start"),
        (["--start", "2026-12-01T08:00"], "offset"),
        (["--url", "http://127.0.0.1:9"], "--token"),
        (["--interval", "7"], "interval"),
    ],
)
def test_replay_command_bad_arguments(session: Session, folder: Path, args: list[str], needle: str) -> None:
    r = CliRunner().invoke(_app(session), ["replay", str(folder), *args])
    assert r.exit_code != 0
    assert needle in r.output


def test_replay_command_bad_folders(session: Session, tmp_path: Path) -> None:
    r = CliRunner().invoke(_app(session), ["replay", str(tmp_path / "missing")])
    assert r.exit_code != 0
    assert "no scenario folder" in r.output
    (tmp_path / "empty").mkdir()
    r = CliRunner().invoke(_app(session), ["replay", str(tmp_path / "empty")])
    assert r.exit_code != 0
    assert "missing" in r.output


def test_replay_command_without_a_network(session: Session, folder: Path) -> None:
    r = CliRunner().invoke(_app(session), ["replay", str(folder), "--speed", "100000"])
    assert r.exit_code == 1
    assert "No road network" in r.output


def test_replay_command_unreachable_server(session: Session, folder: Path) -> None:
    args = ["replay", str(folder), "--speed", "100000", "--url", "http://127.0.0.1:9", "--token", "t"]
    r = CliRunner().invoke(_app(session), args)
    assert r.exit_code == 1
    assert "could not be reached" in r.output


def test_generate_scenario_on_an_imported_network(session: Session, tmp_path: Path) -> None:
    save_segments(session, "demo-like", grid_network(3, 3, 200.0))
    args = ["generate-scenario", str(tmp_path / "o"), "--network", "demo-like", "--hours", "0.25", "--vehicles", "20"]
    r = CliRunner().invoke(_app(session), [*args, "--start", "now"])
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(_app(session), [*args[:3], "--network", "absent"])
    assert r.exit_code != 0
    assert "absent" in r.output


# over HTTP, and the whole way to an alert --------------------------------------------------


def test_http_sender_posts_to_the_feeds_api(session: Session, client: Any, tables: ScenarioTables) -> None:
    from tests.factories import bearer, make_account, make_world

    world = make_world(session)
    save_segments(session, "replay-grid", tables.segments)
    tocc = make_account(session, roles=["traffic_operator"], scope=world.city)
    staff = make_account(session, roles=["department_staff"], scope=world.city)
    p = replay.plan(tables, start=datetime.now(UTC) - timedelta(hours=1))
    client.headers.update(bearer(tocc.id))
    result = replay.run(p, replay.HttpSender(client), speed=100_000, clock=FakeClock())
    assert result.accepted + result.duplicates + result.quarantined == p.total
    assert session.scalar(select(func.count()).select_from(TrafficObservation)) == p.frames["loop"].height
    client.headers.update(bearer(staff.id))  # traffic:read only
    with pytest.raises(replay.ReplayError) as exc:
        replay.run(p, replay.HttpSender(client), speed=100_000, clock=FakeClock())
    assert exc.value.params["status"] == 403


def test_a_replayed_jam_raises_a_congestion_alert(session: Session, runtime: Any, tables: ScenarioTables) -> None:
    from cityos.mobility.alerts import tasks as alerts_tasks
    from cityos.mobility.alerts.models import TrafficAlert
    from cityos.mobility.monitor.models import SegmentState
    from cityos.places import index
    from cityos.registry import subscribe_all
    from tests.factories import make_world

    subscribe_all(runtime.bus)
    make_world(session)
    index.rebuild_cells(session)
    alerts_tasks.install(session)
    save_segments(session, "replay-grid", tables.segments)
    session.commit()
    # an hour ago, so every bin is finished by the wall clock too; the jam from minute 5 to 25
    start = datetime.now(UTC) - timedelta(hours=1)
    p = replay.plan(tables, start=start, jams=[replay.Jam(JAM_SEG, 5, 20, 0.15)])
    sender = replay.InProcessSender(session)
    sender.check(tables)
    replay.run(p, sender, speed=100_000, clock=FakeClock())
    sender.after_bin(p.end + timedelta(minutes=5))
    for _ in range(6):
        if runtime.bus.deliver_pending() == 0:
            break
    session.expire_all()
    states = {
        s.bin_start.replace(tzinfo=UTC): s.state
        for s in session.scalars(select(SegmentState).where(SegmentState.segment_id == JAM_SEG))
    }
    jam_bins = [p.start + timedelta(minutes=m) for m in (10, 15)]
    assert all(states.get(b, 0) >= 4 for b in jam_bins), states
    assert states.get(p.start + timedelta(minutes=25), 5) <= 3  # over once the jam ends
    alerts = list(session.scalars(select(TrafficAlert).where(TrafficAlert.target_id == JAM_SEG)))
    assert alerts
    assert alerts[0].started_at.replace(tzinfo=UTC) <= p.start + timedelta(minutes=25)


def test_an_unaligned_scenario_is_shifted_onto_whole_5_minutes() -> None:
    odd = START + timedelta(minutes=2, seconds=30, milliseconds=700)
    cfg = GeneratorConfig(start=odd, duration_s=900, vehicles=60, seed=4)
    p = replay.plan(generate(grid_network(3, 3, 300.0), cfg), start=datetime(2026, 12, 2, 3, 4, tzinfo=UTC))
    assert p.start == datetime(2026, 12, 2, 3, 0, tzinfo=UTC)
    loops = [r for b in p for r in b.records.get("loop", [])]
    starts = {_ts(r) for r in loops}
    assert min(starts) == p.start
    assert all(ts.minute % 5 == 0 and ts.second == 0 and ts.microsecond == 0 for ts in starts)


def test_in_process_the_replay_clock_is_the_ingest_clock_where_ingest_takes_one(
    session: Session, tables: ScenarioTables, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cityos.mobility.ingest import service as ingest

    seen: list[datetime] = []
    real = ingest.ingest

    def with_clock(session: Session, actor: Any, *, now: datetime | None = None, **kw: Any) -> Any:
        assert now is not None
        seen.append(now)
        return real(session, actor, **kw)

    save_segments(session, "replay-grid", tables.segments)
    ahead = datetime.now(UTC) + timedelta(hours=3)
    p = replay.plan(tables, start=ahead, nav=False)
    sender = replay.InProcessSender(session, compute=False)
    monkeypatch.setattr(ingest, "ingest", with_clock)
    replay.run(p, sender, speed=100_000, clock=FakeClock())
    assert seen
    assert min(seen) >= p.start  # the simulated time of each batch, hours ahead of the wall clock
