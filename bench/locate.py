"""Benchmark: locate(lon, lat) -> deepest region, on the `city` demo, against brute force.

Usage: .venv/bin/python bench/locate.py [--points 20000] [--brute 100] [--seed 7] [--rebuild]

Prints points/s and p50/p99 latency of ``places.index.locate`` over seeded random points in
the city's bounding box, the rate of a brute-force shapely loop over every region polygon
(``places.index.brute_force_locate``) on a sample of the same points, and their ratio.
Targets: >= 100x the brute force, p99 <= 1 ms.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent))

from citydb import city_bbox, ensure_city_db  # noqa: E402

from cityos.core.db import make_engine, make_sessionmaker  # noqa: E402
from cityos.places import index  # noqa: E402


def _percentile(sorted_values: list[float], q: float) -> float:
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=20_000, help="points located with the index")
    parser.add_argument("--brute", type=int, default=100, help="of those, points located by brute force")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--rebuild", action="store_true", help="regenerate var/bench/city.db")
    args = parser.parse_args()
    console = Console()

    url = ensure_city_db(console, rebuild=args.rebuild)
    min_lon, min_lat, max_lon, max_lat = city_bbox(url)
    rng = random.Random(args.seed)
    points = [(rng.uniform(min_lon, max_lon), rng.uniform(min_lat, max_lat)) for _ in range(args.points)]

    engine = make_engine(url)
    session = make_sessionmaker(engine)()
    try:
        started = time.perf_counter()
        index.locate(session, *points[0])  # loads the index
        load_s = time.perf_counter() - started

        latencies: list[float] = []
        found: list[int | None] = []
        started = time.perf_counter()
        for lon, lat in points:
            t0 = time.perf_counter()
            region = index.locate(session, lon, lat)
            latencies.append(time.perf_counter() - t0)
            found.append(region.id if region is not None else None)
        indexed_s = time.perf_counter() - started

        sample = points[: args.brute]
        mismatches = 0
        started = time.perf_counter()
        for i, (lon, lat) in enumerate(sample):
            region = index.brute_force_locate(session, lon, lat)
            if (region.id if region is not None else None) != found[i]:
                mismatches += 1
        brute_s = time.perf_counter() - started
    finally:
        session.close()
        engine.dispose()

    latencies.sort()
    rate = len(points) / indexed_s
    brute_rate = len(sample) / brute_s
    ratio = rate / brute_rate
    p50_ms, p99_ms = _percentile(latencies, 0.50) * 1e3, _percentile(latencies, 0.99) * 1e3
    hits = sum(1 for f in found if f is not None)

    table = Table(title="locate(lon, lat) on the city demo")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_column("target", justify="right")
    table.add_row("index load (first call)", f"{load_s:.2f} s", "")
    table.add_row("points located (index)", f"{len(points):,} ({hits:,} inside a region)", "")
    table.add_row("cityos locate", f"{rate:,.0f} points/s", "")
    mean_ms = statistics.fmean(latencies) * 1e3
    table.add_row("  p50 / mean / p99", f"{p50_ms:.3f} / {mean_ms:.3f} / {p99_ms:.3f} ms", "p99 <= 1 ms")
    table.add_row("baseline: brute-force shapely loop", f"{brute_rate:,.1f} points/s ({len(sample)} points)", "")
    table.add_row("ratio", f"{ratio:,.0f}x", ">= 100x")
    table.add_row("answers differing from brute force", f"{mismatches} of {len(sample)}", "0")
    console.print(table)
    ok = ratio >= 100 and p99_ms <= 1.0 and mismatches == 0
    console.print("[green]targets met[/]" if ok else "[red]targets missed[/]")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
