"""Replaying a scenario folder as a live feed at N× real time (``cityos mobility replay``).

A scenario's tables (``tables.read_scenario``) become the records the ingest service takes
(``mobility.ingest.service.ingest``; the same fields over HTTP): probe fixes, loop detector
intervals and a navigation-speed feed derived from the ground truth with noise. Each record is
*available* when it could have been sent — a fix at its time, an interval at its end — and the
records are sent in order of availability, in batches of one simulated ``interval_s``, with
times shifted so the scenario starts at ``start``. The sender sleeps so the simulated clock
runs at ``speed`` × the real one: at 60×, an hour of traffic takes a minute.

A jam (``Jam``, ``--jam SEGMENT:FROM_MIN:MINUTES:FACTOR``) multiplies one segment's probe,
loop and navigation speeds by ``FACTOR`` (0 < FACTOR < 1) for a window of simulated minutes
from the scenario's start, and raises its loop occupancy to match: an incident that the
monitor sees as congestion and the alert rules turn into an alert.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import numpy as np
import polars as pl

from cityos.core.errors import FieldError, Invalid
from cityos.core.i18n import N_

from .tables import ScenarioTables

NAV_PROVIDER = "sim"  # the provider name of the derived navigation feed
NAV_NOISE = 0.08  # relative σ of the derived navigation speeds
BIN_S = 300  # the monitor's bin: after each one, in-process mode computes it
MAX_BATCH = 5000  # records per request (the ingest API's limit)
SOURCES = ("probe", "loop", "nav")

MSG_JAM_FORMAT = N_("Give the jam as SEGMENT:FROM_MIN:MINUTES:FACTOR, e.g. n0_0-n0_1:10:20:0.2.")
MSG_JAM_FACTOR = N_("The jam's factor must be above 0 and below 1 (the share of the usual speed kept).")
MSG_JAM_WINDOW = N_("The jam must start at minute 0 or later and last more than 0 minutes.")
MSG_JAM_SEGMENT = N_("Segment {segment} is not in the scenario.")
MSG_SPEED = N_("The replay speed must be between 0.1 and 100000.")
MSG_INTERVAL = N_("The batch interval must be between 1 and 300 seconds and divide 300.")
MSG_EMPTY = N_("The scenario has no probe or loop records to replay.")


@dataclass(frozen=True)
class Jam:
    segment_id: str
    from_min: float
    minutes: float
    factor: float


def parse_jam(text: str) -> Jam:
    """``SEGMENT:FROM_MIN:MINUTES:FACTOR``; the segment id may itself hold colons."""
    parts = text.rsplit(":", 3)
    if len(parts) != 4 or not parts[0]:
        raise Invalid(details=[FieldError("jam", MSG_JAM_FORMAT)])
    try:
        from_min, minutes, factor = (float(p) for p in parts[1:])
    except ValueError:
        raise Invalid(details=[FieldError("jam", MSG_JAM_FORMAT)]) from None
    if not all(math.isfinite(v) for v in (from_min, minutes, factor)):
        raise Invalid(details=[FieldError("jam", MSG_JAM_FORMAT)])
    if not 0 < factor < 1:
        raise Invalid(details=[FieldError("jam", MSG_JAM_FACTOR)])
    if from_min < 0 or minutes <= 0:
        raise Invalid(details=[FieldError("jam", MSG_JAM_WINDOW)])
    return Jam(parts[0], from_min, minutes, factor)


def _in_jam(jam: Jam, origin: datetime, ts: str = "ts") -> pl.Expr:
    a = origin + timedelta(minutes=jam.from_min)
    b = a + timedelta(minutes=jam.minutes)
    return (pl.col(ts) >= a) & (pl.col(ts) < b)


def feed_frames(
    tables: ScenarioTables,
    *,
    jams: Sequence[Jam] = (),
    origin: datetime | None = None,
    nav: bool = True,
    seed: int = 0,
) -> dict[str, pl.DataFrame]:
    """The scenario as the ingest service's records, one frame per source, each with ``avail``
    (when the record could first be sent) beside the record's fields; jams applied, times as
    in the scenario (UTC). ``origin`` is the time jam minutes count from (default: the start)."""
    t = tables.conformed()
    origin = origin or scenario_start(t)
    known = set(t.segments["segment_id"].to_list())
    for jam in jams:
        if jam.segment_id not in known:
            raise Invalid(details=[FieldError("jam", MSG_JAM_SEGMENT, {"segment": jam.segment_id})])
    vid = pl.col("vehicle_id")
    probes = t.probes.with_columns(
        pl.when(vid.hash(seed=11) % 3 == 0).then(pl.lit("ridehail")).otherwise(pl.lit("taxi")).alias("kind"),
        (vid.hash(seed=13) % 5 < 3).alias("occupied"),  # about 60% carry a passenger
    )
    loops = t.loop_counts.join(t.loops.select("detector_id", "segment_id"), on="detector_id", how="inner").with_columns(
        (pl.col("occupancy_pct") / 100).alias("occupancy")
    )
    truth = t.edge_truth.filter(pl.col("speed_kmh").is_not_null())
    rng = np.random.default_rng(seed)
    truth = truth.with_columns(
        (pl.col("speed_kmh") * pl.Series(1 + rng.normal(0, NAV_NOISE, truth.height))).clip(3.0).alias("speed_kmh")
    )
    for jam in jams:
        f = jam.factor
        on_p = (pl.col("true_segment_id") == jam.segment_id) & _in_jam(jam, origin)
        probes = probes.with_columns(
            pl.when(on_p).then(pl.col("speed_kmh") * f).otherwise("speed_kmh").alias("speed_kmh")
        )
        on_l = (pl.col("segment_id") == jam.segment_id) & _in_jam(jam, origin)
        loops = loops.with_columns(
            pl.when(on_l).then(pl.col("speed_kmh") * f).otherwise("speed_kmh").alias("speed_kmh"),
            pl.when(on_l).then((pl.col("occupancy") / f).clip(0.0, 1.0)).otherwise("occupancy").alias("occupancy"),
        )
        truth = truth.with_columns(
            pl.when(on_l).then(pl.col("speed_kmh") * f).otherwise("speed_kmh").alias("speed_kmh")
        )
    out = {
        "probe": probes.select(
            pl.col("ts").alias("avail"),
            "kind",
            "vehicle_id",
            "ts",
            pl.col("lon").round(6),
            pl.col("lat").round(6),
            pl.col("speed_kmh").round(1),
            pl.col("heading_deg").round(1),
            "occupied",
        ),
        "loop": loops.select(
            (pl.col("ts") + pl.duration(seconds=pl.col("interval_s"))).alias("avail"),
            "detector_id",
            "segment_id",
            pl.lit(0).alias("lane"),
            "ts",
            "interval_s",
            "count",
            pl.col("occupancy").round(4),
            pl.col("speed_kmh").round(1),
        ),
        "nav": truth.select(
            (pl.col("ts") + pl.duration(seconds=pl.col("interval_s"))).alias("avail"),
            pl.lit(NAV_PROVIDER).alias("provider"),
            "segment_id",
            "ts",
            "interval_s",
            pl.col("speed_kmh").round(1),
            pl.col("entered").alias("samples"),
        ),
    }
    if not nav:
        out["nav"] = out["nav"].clear()
    return {k: v.sort("avail") for k, v in out.items()}


def scenario_start(tables: ScenarioTables) -> datetime:
    """The earliest time in the scenario (probe fix or loop interval start)."""
    firsts = [df["ts"].min() for df in (tables.probes, tables.loop_counts) if df.height]
    if not firsts:
        raise Invalid(details=[FieldError("scenario", MSG_EMPTY)])
    return min(firsts)  # type: ignore[type-var, return-value]


def scenario_duration(tables: ScenarioTables) -> timedelta:
    """From the first record to the end of the last loop interval (or the last fix)."""
    ends: list[datetime] = []
    if tables.probes.height:
        ends.append(tables.probes.select(pl.col("ts").max()).item())
    if tables.loop_counts.height:
        ends.append(tables.loop_counts.select((pl.col("ts") + pl.duration(seconds=pl.col("interval_s"))).max()).item())
    end: datetime = max(ends) if ends else scenario_start(tables)
    return end - scenario_start(tables)


def records(frame: pl.DataFrame) -> list[dict[str, Any]]:
    """A source frame's rows as JSON-ready records (ISO times with zone, no ``avail``)."""
    rows = frame.drop("avail", "k", strict=False).with_columns(pl.col("ts").dt.strftime("%Y-%m-%dT%H:%M:%S%.3f+00:00"))
    return [{k: v for k, v in row.items() if v is not None} for row in rows.iter_rows(named=True)]


@dataclass
class Batch:
    index: int
    due: datetime  # simulated time (shifted) at which the batch is sent
    records: dict[str, list[dict[str, Any]]]

    @property
    def size(self) -> int:
        return sum(len(v) for v in self.records.values())


@dataclass
class Plan:
    """The shifted, batched records of a replay."""

    start: datetime  # the shifted scenario start
    interval_s: int
    batches: int  # number of intervals (some may be empty)
    frames: dict[str, pl.DataFrame]  # per source, with the batch index ``k``

    @property
    def end(self) -> datetime:
        return self.start + timedelta(seconds=self.batches * self.interval_s)

    @property
    def total(self) -> int:
        return sum(f.height for f in self.frames.values())

    def __iter__(self) -> Iterator[Batch]:
        parts = {s: f.partition_by("k", as_dict=True, include_key=False) for s, f in self.frames.items()}
        for k in range(self.batches):
            recs = {s: records(p[(k,)]) for s, p in parts.items() if (k,) in p}
            yield Batch(k, self.start + timedelta(seconds=(k + 1) * self.interval_s), recs)


def floor_time(ts: datetime, seconds: int) -> datetime:
    epoch = int(ts.astimezone(UTC).timestamp())
    return datetime.fromtimestamp(epoch - epoch % seconds, UTC)


def plan(
    tables: ScenarioTables,
    *,
    start: datetime,
    interval_s: int = 60,
    jams: Sequence[Jam] = (),
    nav: bool = True,
    seed: int = 0,
) -> Plan:
    """Shift the scenario so it begins at ``start`` floored to a whole 5 minutes (so loop
    intervals, which start with the scenario, line up with the monitor's bins) and cut it into
    batches of ``interval_s``."""
    if not 1 <= interval_s <= BIN_S or BIN_S % interval_s:
        raise Invalid(details=[FieldError("interval", MSG_INTERVAL)])
    origin = scenario_start(tables)
    frames = feed_frames(tables, jams=jams, origin=origin, nav=nav, seed=seed)
    # The scenario's start goes to a whole 5 minutes, which lines its loop intervals up with the bins.
    begin = floor_time(start, BIN_S)
    shift = begin - origin
    last = 0
    out: dict[str, pl.DataFrame] = {}
    for source, f in frames.items():
        f = f.with_columns(pl.col("avail") + shift, pl.col("ts") + shift)
        secs = (pl.col("avail") - begin).dt.total_microseconds() / 1e6
        # Batch k covers availability in (k·I, (k+1)·I] and is sent at its end.
        f = f.with_columns(((secs / interval_s).ceil().cast(pl.Int64) - 1).clip(0).alias("k"))
        if f.height:
            last = max(last, int(f["k"].max()))  # type: ignore[arg-type]
        out[source] = f
    return Plan(start=begin, interval_s=interval_s, batches=last + 1, frames=out)


@dataclass
class SendResult:
    accepted: int = 0
    duplicates: int = 0
    quarantined: int = 0
    reasons: dict[str, int] = field(default_factory=dict)

    def add(self, other: SendResult) -> None:
        self.accepted += other.accepted
        self.duplicates += other.duplicates
        self.quarantined += other.quarantined
        for k, v in other.reasons.items():
            self.reasons[k] = self.reasons.get(k, 0) + v


class Sender(Protocol):
    def send(self, source: str, records: list[dict[str, Any]], *, at: datetime) -> SendResult:
        """Deliver one batch; ``at`` is the replay's simulated clock when it is sent."""
        ...

    def after_bin(self, until: datetime) -> None:
        """Called once a batch has crossed a 5-minute boundary (simulated time ``until``)."""


class Clock(Protocol):
    def monotonic(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class RealClock:
    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


@dataclass
class Progress:
    batch: Batch
    sent: int  # records so far
    result: SendResult
    lag_s: float  # real seconds behind the schedule (0 when on time)


def run(
    p: Plan,
    sender: Sender,
    *,
    speed: float = 60.0,
    clock: Clock | None = None,
    on_batch: Callable[[Progress], None] | None = None,
) -> SendResult:
    """Send the plan's batches in order, ``speed`` simulated seconds per real second."""
    if not 0.1 <= speed <= 100_000:
        raise Invalid(details=[FieldError("speed", MSG_SPEED)])
    clock = clock or RealClock()
    total = SendResult()
    t0 = clock.monotonic()
    sent = 0
    prev = p.start
    for batch in p:
        wait = t0 + (batch.due - p.start).total_seconds() / speed - clock.monotonic()
        if wait > 0:
            clock.sleep(wait)
        for source in SOURCES:
            recs = batch.records.get(source, [])
            for i in range(0, len(recs), MAX_BATCH):
                total.add(sender.send(source, recs[i : i + MAX_BATCH], at=batch.due))
        sent += batch.size
        if floor_time(batch.due, BIN_S) > floor_time(prev, BIN_S):
            sender.after_bin(batch.due)
        prev = batch.due
        if on_batch is not None:
            on_batch(Progress(batch, sent, total, max(0.0, -wait)))
    return total


# Senders ---------------------------------------------------------------------------------

MSG_HTTP = N_("The server refused the {source} batch: HTTP {status} {detail}")
MSG_UNREACHABLE = N_("The server could not be reached: {detail}")
MSG_NETWORK = N_(
    "None of the scenario's segments is in the active road network {network}: generate the scenario on it "
    "(generate-scenario --network {network})."
)
MSG_NO_NETWORK = N_("No road network has been imported: import the scenario's segments first.")


class ReplayError(Exception):
    """A batch could not be delivered: the replay stops (``message`` is a msgid, ``params`` its values)."""

    def __init__(self, message: str, **params: Any) -> None:
        self.message = message
        self.params = params
        super().__init__(message.format(**params))


def _result(report: Any) -> SendResult:
    get = report.get if isinstance(report, dict) else lambda k, d=None: getattr(report, k, d)
    return SendResult(
        accepted=int(get("accepted", 0)),
        duplicates=int(get("duplicates", 0)),
        quarantined=int(get("quarantined", 0)),
        reasons=dict(get("reasons", {}) or {}),
    )


class InProcessSender:
    """Through the ingest service on this process's database, one commit per request, and the
    monitor's bins computed after each simulated 5 minutes (``compute``), so the board shows
    the replay at once: new bins through the monitor's cursor, bins it had already computed
    (from other feeds) recomputed with the replayed records."""

    def __init__(self, session: Any, *, network_code: str | None = None, compute: bool = True) -> None:
        from cityos.core.actor import SYSTEM

        self.session = session
        self.actor = SYSTEM
        self.network_code = network_code
        self.compute = compute
        self.bins = 0

    def check(self, tables: ScenarioTables) -> str:
        """The active network's code; raises when it shares no segment with the scenario."""
        from cityos.mobility.network.service import active_network, load_segments

        net = active_network(self.session, self.network_code)
        if net is None:
            raise ReplayError(MSG_NO_NETWORK)
        known = set(load_segments(self.session, net.code)["segment_id"].to_list())
        if not known & set(tables.segments["segment_id"].to_list()):
            raise ReplayError(MSG_NETWORK, network=net.code)
        self.network_code = net.code
        return net.code

    def send(self, source: str, records: list[dict[str, Any]], *, at: datetime) -> SendResult:
        from cityos.mobility.ingest import service as ingest

        # In-process, the replay is the clock: a record is "from the future" only beyond it.
        extra: dict[str, Any] = {"now": max(at, datetime.now(UTC))}
        report = ingest.ingest(
            self.session,
            self.actor,
            source=source,
            records=records,
            batch_ref="replay",
            network_code=self.network_code,
            **extra,
        )
        self.session.commit()
        return _result(report)

    def after_bin(self, until: datetime) -> None:
        if not self.compute:
            return
        from cityos.mobility.monitor import service as monitor

        done = floor_time(until, BIN_S) - timedelta(seconds=BIN_S)  # the bin that just ended
        # Every record of that bin has been sent: it is finished for the replay now.
        computed: list[datetime] = []
        for _ in range(400):  # a cursor far behind catches up 12 bins per call
            step = monitor.compute_bins(self.session, until=until + monitor.LATE, network_code=self.network_code)
            self.session.commit()
            computed += step
            if not step or step[-1] >= done:
                break
        if done not in computed:
            try:
                monitor.compute_window(
                    self.session, since=done, until=done + timedelta(seconds=BIN_S), network_code=self.network_code
                )
            except Invalid:
                pass  # not finished by the wall clock yet: the monitor's own run takes it
            self.session.commit()
        self.bins += 1


class HttpSender:
    """``POST /api/v1/mobility/feeds/{source}`` to a running server with a bearer token; the
    server's own per-minute run computes the bins."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def send(self, source: str, records: list[dict[str, Any]], *, at: datetime) -> SendResult:
        import httpx

        try:
            r = self.client.post(f"/api/v1/mobility/feeds/{source}", json={"records": records})
        except httpx.HTTPError as exc:
            raise ReplayError(MSG_UNREACHABLE, detail=str(exc)[:200]) from exc
        if r.status_code != 200:
            raise ReplayError(MSG_HTTP, source=source, status=r.status_code, detail=r.text[:300])
        return _result(r.json())

    def after_bin(self, until: datetime) -> None:
        return None
