"""Segment speed forecasts at 15, 30 and 60 minutes, issued after every computed bin.

The learned model of ``mobility.forecast`` (gradient boosting on lags, time of day, neighbours
and the segment's usual profile), trained on the stored ``segment_state`` history by
``train`` (``cityos mobility monitor train-forecast``) and saved under the archive folder. With
no model, or less than ``MODEL_MIN_HISTORY`` of history before the bin, the forecast is the
historical average of the same time of day; where that slot was never seen, the last value.
Only history before the computed batch is used for the profile, so a forecast never sees the
future it forecasts.
"""

from __future__ import annotations

import pickle
import threading
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, cast
from zoneinfo import ZoneInfo

import polars as pl
from sqlalchemy import Table, delete, insert, select
from sqlalchemy.orm import Session

from cityos.core.db import utcnow
from cityos.core.errors import Invalid
from cityos.core.i18n import N_
from cityos.core.settings import get_settings
from cityos.mobility.forecast import HORIZONS_MIN
from cityos.mobility.forecast.baselines import ProfileKind, historical_average, last_value
from cityos.mobility.forecast.features import build_features
from cityos.mobility.forecast.model import ModelParams, TrainedForecast, fit, predict, training_table
from cityos.mobility.forecast.profile import add_profile_features
from cityos.mobility.forecast.series import prepare
from cityos.mobility.indicators.config import IndicatorConfig
from cityos.mobility.indicators.states import state_expr
from cityos.mobility.monitor import areas
from cityos.mobility.monitor.models import SegmentState, TrafficForecast
from cityos.mobility.network import service as network_service
from cityos.mobility.network.models import RoadNetwork

HISTORY_DAYS = 3  # days of the time-of-day profile read before each batch
LAGS = timedelta(hours=1)  # the model's own lags (features.N_LAGS steps of 5 minutes)
MODEL_MIN_HISTORY = timedelta(hours=23)  # the profile's slots must span about a day
PROFILE: ProfileKind = "time_of_day"  # three days cannot hold a time-of-week profile
TRAIN_DAYS = 14
MODELS = ("learned", "historical_average", "last_value")
_CHUNK = 5000

_TABLE = cast(Table, TrafficForecast.__table__)

REFIT_HOUR = 3  # city time: the learned model is refitted in the first per-minute job after 03:00
_refit_tried: dict[str, date] = {}  # network code → the city day of this process's last refit

MSG_TOO_LITTLE = N_("Too little stored history to train a forecast model (at least a day of states is needed).")


def model_path(network_code: str) -> Path:
    return get_settings().archive_dir / "var" / f"traffic-forecast-{network_code}.pkl"


@dataclass
class SavedModel:
    network_code: str
    trained_at: datetime
    trained: TrainedForecast
    with_edges: bool
    rows: int


_models: dict[Path, tuple[float, SavedModel]] = {}
_lock = threading.Lock()


def load_model(network_code: str) -> SavedModel | None:
    path = model_path(network_code)
    try:
        mtime = path.stat().st_mtime
    except FileNotFoundError:
        return None
    with _lock:
        hit = _models.get(path)
        if hit is not None and hit[0] == mtime:
            return hit[1]
    with path.open("rb") as fh:
        saved = pickle.load(fh)  # noqa: S301 (a file this process wrote under the archive folder)
    if not isinstance(saved, SavedModel) or saved.network_code != network_code:
        return None
    with _lock:
        _models[path] = (mtime, saved)
    return saved


def edges(segments: pl.DataFrame) -> pl.DataFrame:
    """Neighbours by topology: the segments that flow into and out of each segment."""
    seg = segments.select("segment_id", "from_node", "to_node")
    down = seg.join(seg, left_on="to_node", right_on="from_node", suffix="_n").select(
        pl.col("segment_id").alias("sensor_id"), pl.col("segment_id_n").alias("neighbour_id")
    )
    up = seg.join(seg, left_on="from_node", right_on="to_node", suffix="_n").select(
        pl.col("segment_id").alias("sensor_id"), pl.col("segment_id_n").alias("neighbour_id")
    )
    both = pl.concat([down, up]).filter(pl.col("sensor_id") != pl.col("neighbour_id")).unique()
    return both.with_columns(pl.lit(1.0).alias("weight"))


def _frame(rows: list[Any]) -> pl.DataFrame:
    return pl.DataFrame(
        [tuple(r) for r in rows],
        schema={"sensor_id": pl.String, "ts": pl.Datetime("us", "UTC"), "speed_kmh": pl.Float64},
        orient="row",
    )


def _select() -> Any:
    s = SegmentState
    return select(s.segment_id, s.bin_start, s.speed_kmh).where(s.speed_kmh.is_not(None))


def history(session: Session, network_code: str, start: datetime, end: datetime) -> pl.DataFrame:
    """(sensor_id, ts, speed_kmh) of the stored states in [start, end)."""
    s = SegmentState
    q = _select().where(s.network_code == network_code, s.bin_start >= start, s.bin_start < end)
    return _frame(list(session.execute(q).all()))


def history_at(session: Session, network_code: str, stamps: set[datetime]) -> pl.DataFrame:
    """The stored states of the given bin starts only (the profile's slots on earlier days)."""
    s = SegmentState
    ordered = sorted(stamps)
    rows: list[Any] = []
    for i in range(0, len(ordered), 400):
        q = _select().where(s.network_code == network_code, s.bin_start.in_(ordered[i : i + 400]))
        rows += session.execute(q).all()
    return _frame(rows)


def profile_stamps(bins: list[datetime]) -> set[datetime]:
    """The bins on the ``HISTORY_DAYS`` days before whose time of day a forecast at ``bins`` reads:
    that of the issue (``profile_now``) and of each target (``hist_<h>``)."""
    return {
        b + timedelta(minutes=h) - timedelta(days=d)
        for b in bins
        for h in (0, *HORIZONS_MIN)
        for d in range(1, HISTORY_DAYS + 1)
    }


def _combine(issues: pl.DataFrame, frames: list[tuple[str, pl.DataFrame | None]]) -> pl.DataFrame:
    keys = ["sensor_id", "ts", "horizon_min"]
    out: pl.DataFrame | None = None
    for name, frame in frames:
        if frame is None:
            continue
        part = frame.filter(pl.col("forecast_kmh").is_not_null()).select(
            *keys, "target_ts", "forecast_kmh", pl.lit(name).alias("model")
        )
        out = part if out is None else pl.concat([out, part.join(out, on=keys, how="anti")])
    return out if out is not None else pl.DataFrame()


def issue(session: Session, *, net: RoadNetwork, segments: pl.DataFrame, bins: list[datetime]) -> int:
    """Forecasts issued at each of ``bins`` (replacing earlier ones of the same bins); the rows written."""
    if not bins:
        return 0
    first, end = bins[0], bins[-1] + timedelta(minutes=5)
    # The last hour before the batch and the batch itself (the lags), and only the profile's
    # slots from the days before: a minute's forecast reads a few thousand rows, not three days.
    recent = history(session, net.code, first - LAGS, end)
    if recent.is_empty():
        return 0
    before = history_at(session, net.code, {t for t in profile_stamps(bins) if t < first})
    grid = prepare(recent).grid
    issue_ts = pl.Series("ts", bins, dtype=pl.Datetime("us", "UTC"))
    issues = grid.filter(pl.col("ts").is_in(issue_ts.implode()))
    frames: list[tuple[str, pl.DataFrame | None]] = []
    saved = load_model(net.code)
    span = (before["ts"].max() - before["ts"].min()) if before.height else timedelta(0)  # type: ignore[operator]
    if saved is not None and isinstance(span, timedelta) and span >= MODEL_MIN_HISTORY:
        feats = build_features(grid, edges(segments) if saved.with_edges else None)
        feats = add_profile_features(feats, before, PROFILE)
        frames.append(("learned", predict(saved.trained, feats, issues)))
    if before.height:
        frames.append(("historical_average", historical_average(before, issues, kind=PROFILE)))
    frames.append(("last_value", last_value(issues)))
    out = _combine(issues, frames)
    session.execute(
        delete(TrafficForecast).where(
            TrafficForecast.network_code == net.code,
            TrafficForecast.issued_at >= first,
            TrafficForecast.issued_at < end,
        )
    )
    if out.is_empty():
        return 0
    config = IndicatorConfig()
    classes = segments.select(pl.col("segment_id").alias("sensor_id"), "road_class")
    out = out.join(classes, on="sensor_id", how="left").with_columns(
        pl.col("forecast_kmh").clip(0.0, config.max_speed_kmh)
    )
    out = out.with_columns(state_expr("forecast_kmh", "road_class", config).alias("state"))
    rows = out.select(
        pl.lit(net.code).alias("network_code"),
        pl.col("sensor_id").alias("segment_id"),
        pl.col("ts").alias("issued_at"),
        pl.col("horizon_min"),
        pl.col("target_ts").alias("target_at"),
        pl.col("forecast_kmh").alias("speed_kmh"),
        "state",
        "model",
    ).to_dicts()
    for i in range(0, len(rows), _CHUNK):
        session.execute(insert(_TABLE), rows[i : i + _CHUNK])  # Core: one executemany, not the ORM's groups
    return len(rows)


@dataclass
class TrainReport:
    network_code: str
    rows: dict[int, int]
    path: Path
    seconds_of_history: float


def train(
    session: Session,
    *,
    net: RoadNetwork,
    segments: pl.DataFrame,
    until: datetime | None = None,
    days: int = TRAIN_DAYS,
    params: ModelParams | None = None,
) -> TrainReport:
    """Fit the learned model on the stored states of the last ``days`` days and save it."""
    end = until or utcnow()
    hist = history(session, net.code, end - timedelta(days=days), end)
    span = (hist["ts"].max() - hist["ts"].min()) if hist.height else timedelta(0)  # type: ignore[operator]
    if not isinstance(span, timedelta) or span < MODEL_MIN_HISTORY:
        raise Invalid(MSG_TOO_LITTLE)
    grid = prepare(hist).grid
    feats = add_profile_features(build_features(grid, edges(segments)), grid, PROFILE)
    table = training_table(feats, grid, HORIZONS_MIN)
    trained = fit(table, HORIZONS_MIN, params or ModelParams(max_iter=150, threads=1, max_train_rows=200_000))
    saved = SavedModel(net.code, utcnow(), trained, with_edges=True, rows=table.height)
    path = model_path(net.code)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with tmp.open("wb") as fh:
        pickle.dump(saved, fh)
    tmp.replace(path)
    return TrainReport(net.code, dict(trained.train_rows), path, span.total_seconds())


def refit_nightly(
    session: Session, *, now: datetime | None = None, params: ModelParams | None = None
) -> TrainReport | None:
    """The active network's learned model fitted again once a day, after ``REFIT_HOUR`` city time,
    on the last ``TRAIN_DAYS`` days of states, so that it follows changing traffic without an
    operator. None when it is not due: before that hour, when a model was saved today already
    (``train-forecast`` by hand), when this process tried today, or when the stored history is
    still too short (the historical average forecasts meanwhile; the next night tries again)."""
    now = now or utcnow()
    zone = ZoneInfo(get_settings().timezone)
    local = now.astimezone(zone)
    if local.hour < REFIT_HOUR:
        return None
    net = network_service.active_network(session)
    if net is None or _refit_tried.get(net.code) == local.date():
        return None
    _refit_tried[net.code] = local.date()
    saved = load_model(net.code)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    if saved is not None and _as_utc(saved.trained_at) >= midnight:
        return None
    places = areas.segment_places(session, net)
    try:
        return train(session, net=net, segments=places.segments, until=now, params=params)
    except Invalid:
        return None


def _as_utc(ts: datetime) -> datetime:
    return ts if ts.tzinfo is not None else ts.replace(tzinfo=UTC)


def errors(
    session: Session, *, network_code: str, segment_id: str, since: datetime
) -> dict[int, tuple[float | None, int]]:
    """MAE (km/h) per horizon of the forecasts for ``segment_id`` whose target bin has happened
    since ``since``, against the fused speed stored for that bin; with the number compared."""
    f, s = TrafficForecast, SegmentState
    rows = session.execute(
        select(f.horizon_min, f.speed_kmh, s.speed_kmh)
        .join(
            s,
            (s.network_code == f.network_code) & (s.segment_id == f.segment_id) & (s.bin_start == f.target_at),
        )
        .where(
            f.network_code == network_code,
            f.segment_id == segment_id,
            f.target_at >= since,
            s.speed_kmh.is_not(None),
        )
    ).all()
    sums: dict[int, list[float]] = {h: [] for h in HORIZONS_MIN}
    for h, predicted, actual in rows:
        if actual is not None:
            sums.setdefault(int(h), []).append(abs(predicted - actual))
    return {h: ((sum(v) / len(v)) if v else None, len(v)) for h, v in sums.items()}


def latest(session: Session, *, network_code: str, segment_id: str) -> list[TrafficForecast]:
    """The forecasts of the latest issue for a segment, one per horizon."""
    f = TrafficForecast
    last = session.scalar(
        select(f.issued_at)
        .where(f.network_code == network_code, f.segment_id == segment_id)
        .order_by(f.issued_at.desc())
        .limit(1)
    )
    if last is None:
        return []
    q = select(f).where(f.network_code == network_code, f.segment_id == segment_id, f.issued_at == last)
    return list(session.scalars(q.order_by(f.horizon_min)))


def describe(saved: SavedModel | None) -> dict[str, Any]:
    if saved is None:
        return {"model": None}
    return {"model": "learned", "trained_at": _as_utc(saved.trained_at).isoformat(), "rows": saved.rows}
