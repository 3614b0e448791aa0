"""Benchmark: 15/30/60-minute speed forecasts on the real Los-loop week, against two baselines.

Usage: .venv/bin/python bench/forecast.py [--data ../shared/data/traffic/los-loop] [--threads 1]
       [--no-profile] [--ablation]

207 loop detectors × 2,016 five-minute steps (7 days). The last day is held out: the models
are trained on the first six days and forecasts are issued at every step of the last day whose
target is still inside it. In the same run it scores the historical average (same time of day
over the six training days: one week holds each weekday once, so time of week is undefined for
the held-out day), the last value, and the gradient-boosting model (one per horizon, trained
across sensors). Prints MAE/RMSE/MAPE per horizon in mph (the published METR-LA unit) and the
ratio of the model's MAE to the historical average's (target: ≤ 0.75 at 15 min).
``--ablation`` also trains the model without the profile features (the lag, difference,
time-of-day and neighbour features only).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import polars as pl
from rich.console import Console
from rich.table import Table

from cityos.mobility.forecast import HORIZONS_MIN
from cityos.mobility.forecast.backtest import BacktestResult, backtest, holdout_cut
from cityos.mobility.forecast.data import MPH_TO_KMH, load_los_loop
from cityos.mobility.forecast.model import ModelParams
from cityos.mobility.forecast.series import prepare

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "traffic" / "los-loop"
TARGET_RATIO = 0.75


def _table(console: Console, title: str, results: dict[str, BacktestResult]) -> None:
    table = Table(title=title)
    table.add_column("method")
    for h in HORIZONS_MIN:
        table.add_column(f"{h} min MAE / RMSE / MAPE", justify="right")
    for label, result, method in _rows(results):
        cells = []
        for h in HORIZONS_MIN:
            m = result.metrics[method].filter(pl.col("horizon_min") == h).row(0, named=True)
            cells.append(f"{m['mae'] / MPH_TO_KMH:.2f} / {m['rmse'] / MPH_TO_KMH:.2f} / {m['mape']:.1f}%")
        table.add_row(label, *cells)
    console.print(table)


def _rows(results: dict[str, BacktestResult]) -> list[tuple[str, BacktestResult, str]]:
    main = results["model"]
    rows = [
        ("historical average (time of day)", main, "historical_average"),
        ("last value", main, "last_value"),
        ("gradient boosting (lags, neighbours, profile)", main, "model"),
    ]
    if "ablation" in results:
        rows.append(("gradient boosting without profile features", results["ablation"], "model"))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--threads", type=int, default=None, help="OpenMP threads for fitting (default: all)")
    parser.add_argument("--no-profile", action="store_true", help="the model without the profile features")
    parser.add_argument("--ablation", action="store_true", help="also train without the profile features")
    args = parser.parse_args()
    console = Console(width=140)

    t0 = time.perf_counter()
    long, edges = load_los_loop(args.data)
    prepared = prepare(long)
    grid = prepared.grid
    cut = holdout_cut(grid, 1)
    console.print(
        f"Los-loop: {grid['sensor_id'].n_unique()} sensors × {grid['ts'].n_unique()} steps, "
        f"{edges.height} neighbour pairs, {prepared.quarantine.height} records quarantined, "
        f"{prepared.missing_steps} missing steps; loaded in {time.perf_counter() - t0:.1f} s; "
        f"held out from {cut:%Y-%m-%d %H:%M} (nominal clock)"
    )
    params = ModelParams(threads=args.threads)
    results: dict[str, BacktestResult] = {}
    results["model"] = backtest(grid, cut, edges=edges, params=params, use_profile=not args.no_profile)
    if args.ablation:
        results["ablation"] = backtest(grid, cut, edges=edges, params=params, use_profile=False)
    main_result = results["model"]
    _table(console, "Held-out day, MAE and RMSE in mph, MAPE in %", results)
    n = main_result.metrics["model"]["n"].to_list()
    console.print(f"scored forecasts per horizon: {dict(zip(HORIZONS_MIN, n, strict=True))}")
    secs = main_result.seconds
    console.print(
        "seconds: features {features:.1f}, train (3 models) {train:.1f}, predict {predict:.2f}, "
        "historical average {historical_average:.2f}, last value {last_value:.2f}".format(**secs)
    )
    for h in HORIZONS_MIN:
        ha = main_result.mae("historical_average", h)
        lv = main_result.mae("last_value", h)
        model = main_result.mae("model", h)
        console.print(
            f"{h:>2} min: model MAE {model / MPH_TO_KMH:.2f} mph, historical average {ha / MPH_TO_KMH:.2f}, "
            f"last value {lv / MPH_TO_KMH:.2f}; ratio model/HA {model / ha:.3f} "
            f"({100 * (1 - model / ha):.1f} % lower), model/last value {model / lv:.3f}"
        )
    ratio = main_result.mae("model", 15) / main_result.mae("historical_average", 15)
    verdict = "met" if ratio <= TARGET_RATIO else "NOT met"
    console.print(f"target (MAE ≥ 25 % below historical average at 15 min, ratio ≤ {TARGET_RATIO}): {verdict}")


if __name__ == "__main__":
    main()
