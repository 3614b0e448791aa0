"""Benchmark: the grid worker's paged resident list, against a bare FastAPI JSON endpoint.

Usage: .venv/bin/python bench/api_read.py [--requests 1500] [--rounds 5] [--concurrency 8] [--rebuild]

Starts the real app with uvicorn on 127.0.0.1 (a free port) over the `city` demo database,
authenticates as the demo grid worker (an access token for its account) and sends a bounded number of
``GET /api/v1/people?page=N&size=20`` requests from a small concurrent httpx client. The
baseline is a bare FastAPI endpoint returning a similar list of 20 items, served and loaded
the same way in the same run, in rounds that alternate between the two servers. Prints the
median round's requests/s, p50/p99 and the ratio (target >= 0.3).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
from fastapi import FastAPI
from rich.console import Console
from rich.table import Table

BENCH_DIR = Path(__file__).resolve().parent

# The baseline app: what a bare FastAPI JSON endpoint costs on this machine.
bare_app = FastAPI()


@bare_app.get("/items")
def bare_items(page: int = 1, size: int = 20) -> dict[str, object]:
    items = [
        {
            "id": (page - 1) * size + i + 1,
            "name": "张伟",
            "gender": "male",
            "birth_date": "1985-03-12",
            "id_number": "510104********123X",
            "phone": "138****5678",
            "region_id": 123456,
            "region_path": "/1/2/300/4000/50000/600000/",
            "tags": ["party_member"],
        }
        for i in range(size)
    ]
    return {"items": items, "page": page, "size": size, "total": 1000}


@bare_app.get("/healthz")
def bare_health() -> dict[str, str]:
    return {"status": "ok"}


@dataclass
class Result:
    requests: int
    seconds: float
    latencies: list[float]
    errors: int

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start(app: str, port: int, env: dict[str, str], *, factory: bool) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(port)]
    cmd += ["--log-level", "warning", "--no-access-log", "--app-dir", str(BENCH_DIR)]
    if factory:
        cmd.append("--factory")
    return subprocess.Popen(cmd, env=env)


def _wait_ready(base: str, proc: subprocess.Popen[bytes], timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError("server did not start in time")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


async def _load(base: str, paths: list[str], headers: dict[str, str], concurrency: int) -> Result:
    queue: asyncio.Queue[str] = asyncio.Queue()
    for p in paths:
        queue.put_nowait(p)
    latencies: list[float] = []
    errors = 0

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal errors
        while True:
            try:
                path = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            t0 = time.perf_counter()
            response = await client.get(path)
            latencies.append(time.perf_counter() - t0)
            if response.status_code != 200 or len(response.json()["items"]) == 0:
                errors += 1

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits, timeout=30) as client:
        started = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
        seconds = time.perf_counter() - started
    return Result(len(paths), seconds, latencies, errors)


def _measure(base: str, paths: list[str], headers: dict[str, str], concurrency: int, warmup: int) -> Result:
    asyncio.run(_load(base, paths[:warmup], headers, concurrency))
    return asyncio.run(_load(base, paths, headers, concurrency))


def _median(rounds: list[Result]) -> Result:
    """The round with the median rate."""
    return sorted(rounds, key=lambda r: r.rate)[len(rounds) // 2]


def _grid_worker(url: str) -> tuple[dict[str, str], int]:
    """Auth headers of the demo grid worker and the number of residents in its grid.

    The access token is issued for the account exactly as the sign-in endpoint issues it, so
    every measured request is authenticated, scoped and permission-checked by the app.
    """
    from sqlalchemy import func, select

    from cityos.core.actor import subtree_clause
    from cityos.core.db import make_engine, make_sessionmaker
    from cityos.demo.accounts import demo_account
    from cityos.identity import tokens
    from cityos.identity.models import Account
    from cityos.people.models import Person

    engine = make_engine(url)
    try:
        with make_sessionmaker(engine)() as session:
            account = session.scalars(
                select(Account).where(Account.username == demo_account("grid_worker").username)
            ).one()
            residents = session.scalar(
                select(func.count()).select_from(Person).where(subtree_clause(Person.region_path, account.scope_path))
            )
            token, _claims = tokens.issue("access", str(account.id), timedelta(hours=1))
    finally:
        engine.dispose()
    return {"Authorization": f"Bearer {token}"}, int(residents or 0)


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--requests", type=int, default=1500, help="measured requests per round")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds per server; medians compared")
    parser.add_argument("--rebuild", action="store_true", help="regenerate var/bench/city.db")
    args = parser.parse_args()
    console = Console()

    sys.path.insert(0, str(BENCH_DIR))
    from citydb import ensure_city_db

    url = ensure_city_db(console, rebuild=args.rebuild)
    env = dict(os.environ, CITYOS_DATABASE_URL=url, CITYOS_LOG_LEVEL="WARNING")
    headers, total = _grid_worker(url)
    pages = max(1, (total + 19) // 20)

    project_base = f"http://127.0.0.1:{_free_port()}"
    bare_base = f"http://127.0.0.1:{_free_port()}"
    project_server = _start("cityos.app:create_app", int(project_base.rsplit(":", 1)[1]), env, factory=True)
    bare_server = _start("api_read:bare_app", int(bare_base.rsplit(":", 1)[1]), env, factory=False)
    try:
        _wait_ready(project_base, project_server)
        _wait_ready(bare_base, bare_server)
        first = httpx.get(f"{project_base}/api/v1/people", params={"page": 1, "size": 20}, headers=headers, timeout=30)
        if first.status_code != 200 or not first.json().get("items"):
            console.print(f"[red]GET /api/v1/people answered {first.status_code}: {first.text[:300]}[/]")
            return 1
        project_paths = [f"/api/v1/people?page={i % pages + 1}&size=20" for i in range(args.requests)]
        bare_paths = [f"/items?page={i % pages + 1}&size=20" for i in range(args.requests)]
        # Rounds alternate between the two servers, so a slow spell of the machine hits both.
        project_rounds: list[Result] = []
        bare_rounds: list[Result] = []
        for _ in range(args.rounds):
            project_rounds.append(_measure(project_base, project_paths, headers, args.concurrency, args.warmup))
            bare_rounds.append(_measure(bare_base, bare_paths, {}, args.concurrency, args.warmup))
    finally:
        _stop(project_server)
        _stop(bare_server)
    project = _median(project_rounds)
    bare = _median(bare_rounds)

    ratio = project.rate / bare.rate
    table = Table(title=f"GET /api/v1/people (grid worker, {total:,} residents in the grid, {pages} pages)")
    table.add_column("server")
    table.add_column("requests/s", justify="right")
    table.add_column("p50 ms", justify="right")
    table.add_column("p99 ms", justify="right")
    table.add_column("errors", justify="right")
    for label, r in (("cityos resident list", project), ("baseline: bare FastAPI list", bare)):
        table.add_row(
            label, f"{r.rate:,.0f}", f"{r.percentile(0.5) * 1e3:.1f}", f"{r.percentile(0.99) * 1e3:.1f}", str(r.errors)
        )
    console.print(table)
    console.print(
        f"{args.rounds} alternating rounds of {args.requests:,} requests per server, concurrency {args.concurrency};"
        " the median round of each is shown"
    )
    console.print(
        "rounds (requests/s): cityos "
        + ", ".join(f"{r.rate:.0f}" for r in project_rounds)
        + " | bare "
        + ", ".join(f"{r.rate:.0f}" for r in bare_rounds)
    )
    console.print(f"ratio {ratio:.2f} of the bare rate (target >= 0.3)")
    ok = ratio >= 0.3 and project.errors == 0 and bare.errors == 0
    console.print("[green]target met[/]" if ok else "[red]target missed[/]")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
