"""Benchmark: NGSI-LD single-entity partial updates per second, over real HTTP.

Usage: .venv/bin/python bench/ngsi_updates.py [--entities 500] [--seconds 6] [--connections 16]
       [--rounds 3] [--database postgresql://postgres@127.0.0.1:5432/postgres] [--path attr|attrs]
       [--app both|fast|normal] [--workers 2]

``--app both`` (default) starts two apps, the app as served (``fast_app`` below: with the NGSI-LD
fast path, ``hub/ngsi/fastpath.py``) and the same app with it switched off (``routes_app``), and
measures them in alternating rounds; ``--workers`` runs that many uvicorn processes of each (default
2: the issue's 2 cores served as ``docs/operations.md`` says, one ``cityos serve`` worker per core,
one of them elected for the background work; ``--workers 1`` measures a single process).

Builds a fresh database (SQLite file by default; ``--database`` names a PostgreSQL server, where
a throw-away database is created and dropped), creates ``--entities`` entities through the store
API, starts the real app (``cityos serve``'s uvicorn factory, ``--workers`` processes) on a free
local port and sends ``PATCH /ngsi-ld/v1/entities/{id}/attrs/temperature`` (``--path attrs``: ``PATCH
.../attrs``) with a bearer token of a 数据专员 from a small asyncio client that writes pre-built
HTTP/1.1 requests over keep-alive sockets (an ``asyncio.Protocol`` per connection, one
request in flight on each). Every update goes the whole way: authentication,
permission, tenant, JSON-LD expansion, validation, one UPDATE, the temporal history insert and
the subscription matcher, commit.

Baselines measured in the same run, on the same machine:
- the same HTTP stack (uvicorn, same options) serving a bare ASGI endpoint that reads the body
  and answers 204 — what any Python endpoint at all costs here;
- the same updates as raw SQL (one UPDATE of the entity's JSON per transaction) on the same
  database from one Python connection — what the database alone costs.
Rounds alternate between the servers; the median round is reported. Prints updates/s, p50/p99
latency, the ratios, and the issue's anchor (Orion-LD ≈ 3,500 updates/s on 2 CPUs; target ≥
5,000/s with p99 ≤ 50 ms). Exits 1 when the target is missed (the figure is printed anyway).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
TENANT = "bench"
TEMPERATURE = "https://uri.etsi.org/ngsi-ld/default-context/temperature"
ANCHOR_ORION = 3500.0
TARGET_RATE = 5000.0
TARGET_P99_MS = 50.0


# -- the baseline ASGI app: what the HTTP stack alone costs -----------------------------------
async def bare_app(scope: dict, receive, send) -> None:  # type: ignore[no-untyped-def]
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    status = 200 if scope["path"] == "/healthz" else 204
    await send({"type": "http.response.start", "status": status, "headers": [(b"content-length", b"0")]})
    await send({"type": "http.response.body", "body": b""})


def fast_app():  # type: ignore[no-untyped-def]
    """The real app as ``cityos serve`` makes it: with the NGSI-LD fast path (``hub/ngsi/fastpath.py``)."""
    from cityos.app import create_app

    return create_app()


def routes_app():  # type: ignore[no-untyped-def]
    """The same app with the fast path switched off: the FastAPI routes answer every update."""
    from cityos.app import create_app
    from cityos.core.settings import get_settings

    return create_app(get_settings().model_copy(update={"ngsi_fast_path": False}))


@dataclass
class Result:
    label: str
    seconds: float
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    statuses: dict[int, int] = field(default_factory=dict)

    @property
    def count(self) -> int:
        return len(self.latencies)

    @property
    def rate(self) -> float:
        return self.count / self.seconds if self.seconds else 0.0

    def pct(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


# -- the load generator ------------------------------------------------------------------------
def _requests(host: str, path_of: list[str], token: str, bodies: list[bytes]) -> list[bytes]:
    out = []
    for path, body in zip(path_of, bodies, strict=True):
        head = (
            f"PATCH {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n"
            f"NGSILD-Tenant: {TENANT}\r\nContent-Type: application/json\r\nAccept-Language: en\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        )
        out.append(head.encode() + body)
    return out


class _Client(asyncio.Protocol):
    """One keep-alive connection sending the next request as soon as the previous response
    is complete (one request in flight per connection, no pipelining). A protocol rather than
    streams: the load generator shares the cores with the server, so it should cost little."""

    def __init__(self, requests: list[bytes], start: int, step: int, stop_at: float, result: Result) -> None:
        self.requests, self.i, self.step, self.stop_at, self.result = requests, start, step, stop_at, result
        self.buffer = b""
        self.sent_at = 0.0
        self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self._send()

    def _send(self) -> None:
        assert self.transport is not None
        self.sent_at = time.perf_counter()
        self.transport.write(self.requests[self.i % len(self.requests)])
        self.i += self.step

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buffer[:end]
            lower = head.lower()
            at = lower.find(b"content-length:")
            length = 0
            if at >= 0:
                eol = lower.find(b"\r\n", at)
                length = int(lower[at + 15 : eol if eol >= 0 else len(lower)])
            if len(self.buffer) < end + 4 + length:
                return
            self.buffer = self.buffer[end + 4 + length :]
            now = time.perf_counter()
            status = int(head[9:12])
            result = self.result
            result.latencies.append(now - self.sent_at)
            result.statuses[status] = result.statuses.get(status, 0) + 1
            if status != 204:
                result.errors += 1
            if now >= self.stop_at:
                assert self.transport is not None
                self.transport.close()
                return
            self._send()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.done.done():
            self.done.set_result(None)


async def _load(label: str, port: int, requests: list[bytes], connections: int, seconds: float) -> Result:
    loop = asyncio.get_running_loop()
    result = Result(label, seconds)
    started = time.perf_counter()
    stop_at = started + seconds
    clients = []
    for k in range(connections):
        _, client = await loop.create_connection(
            lambda k=k: _Client(requests, k, connections, stop_at, result), "127.0.0.1", port
        )
        clients.append(client)
    await asyncio.gather(*(c.done for c in clients))
    result.seconds = time.perf_counter() - started
    return result


# -- servers -----------------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start(app: str, port: int, env: dict[str, str], *, factory: bool, workers: int = 1) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(port)]
    if workers > 1:
        cmd += ["--workers", str(workers)]
        env = dict(env, CITYOS_WORKERS=str(workers))  # as `cityos serve --workers`: one runs the background work
    cmd += ["--log-level", "warning", "--no-access-log", "--app-dir", str(BENCH_DIR)]
    if factory:
        cmd.append("--factory")
    return subprocess.Popen(cmd, env=env)


def _wait_ready(port: int, proc: subprocess.Popen[bytes], timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                if s.recv(64).startswith(b"HTTP/1.1 200"):
                    return
        except OSError:
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


# -- data --------------------------------------------------------------------------------------
def _database(arg: str | None, tmp: Path) -> tuple[str, str | None]:
    """(database URL, admin URL to drop it afterwards, for PostgreSQL)."""
    if not arg:
        return f"sqlite:///{tmp / 'ngsi-bench.db'}", None
    import psycopg

    admin = arg.replace("postgresql+psycopg://", "postgresql://")
    name = f"cityos_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{admin.rpartition('/')[0]}/{name}", admin


def _drop(url: str, admin: str | None) -> None:
    if admin is None:
        return
    import psycopg

    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{url.rpartition("/")[2]}" WITH (FORCE)')


def _prepare(url: str, entities: int) -> tuple[str, list[str]]:
    """Migrations, a 数据专员 account and its token, and the entities (through the store API)."""
    from cityos.core import migrate
    from cityos.core.db import make_engine, make_sessionmaker, unit_of_work
    from cityos.hub.ngsi import service as store
    from cityos.identity import tokens
    from cityos.identity.models import Account, AccountRole
    from cityos.places.models import LEVEL_DEPTH, Region

    engine = make_engine(url)
    migrate.upgrade(engine)
    ids = [f"urn:ngsi-ld:Sensor:bench-{i:05d}" for i in range(entities)]
    with unit_of_work(make_sessionmaker(engine)) as session:
        city = Region(code="BENCH", name="基准市", level="city", path="/pending/", depth=LEVEL_DEPTH["city"], attrs={})
        session.add(city)
        session.flush()
        city.path = f"/{city.id}/"
        account = Account(username="ngsi-bench", display_name="bench", scope_region_id=city.id, scope_path=city.path)
        session.add(account)
        session.flush()
        session.add(AccountRole(account_id=account.id, role="data_officer"))
        for entity_id in ids:
            store.upsert_attributes(
                session,
                tenant=TENANT,
                entity_id=entity_id,
                entity_type="Sensor",
                # The HTTP requests carry no Link header: their names expand with the core context.
                attrs={TEMPERATURE: {"type": "Property", "value": 20.0, "unitCode": "CEL"}},
            )
        account_id = account.id
    engine.dispose()
    token, _ = tokens.issue("access", str(account_id), timedelta(hours=2))
    return token, ids


def _raw_sql(url: str, ids: list[str], seconds: float) -> Result:
    """The same partial updates as raw SQL: read the JSON, set the value, UPDATE, commit."""
    from sqlalchemy import text

    from cityos.core.db import make_engine

    engine = make_engine(url)
    result = Result("raw SQL UPDATE", seconds)
    attr = TEMPERATURE
    select = text("SELECT data FROM hub_ngsi_entity WHERE tenant = :t AND entity_id = :e")
    update = text(
        "UPDATE hub_ngsi_entity SET data = :d, modified_at = CURRENT_TIMESTAMP WHERE tenant = :t AND entity_id = :e"
    )
    started = time.perf_counter()
    stop_at = started + seconds
    i = 0
    with engine.connect() as conn:
        while time.perf_counter() < stop_at:
            t0 = time.perf_counter()
            entity_id = ids[i % len(ids)]
            with conn.begin():
                data = conn.execute(select, {"t": TENANT, "e": entity_id}).scalar_one()
                data = json.loads(data) if isinstance(data, str) else dict(data)
                data[attr] = {**data[attr], "value": float(i % 40)}
                conn.execute(update, {"d": json.dumps(data), "t": TENANT, "e": entity_id})
            result.latencies.append(time.perf_counter() - t0)
            i += 1
    result.seconds = time.perf_counter() - started
    engine.dispose()
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--entities", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=6.0, help="length of one measured round")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--database", default=None, help="a PostgreSQL admin URL (default: a SQLite file)")
    parser.add_argument("--path", choices=("attr", "attrs"), default="attr")
    parser.add_argument(
        "--app",
        choices=("both", "fast", "normal"),
        default="both",
        help="the app with the NGSI-LD fast path, without it (the FastAPI routes), or both, alternating",
    )
    parser.add_argument(
        "--workers", type=int, default=2, help="uvicorn worker processes of the cityos app (one per core of 2)"
    )
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="ngsi-bench-"))
    url, admin = _database(args.database, tmp)
    env = dict(os.environ, CITYOS_DATABASE_URL=url, CITYOS_LOG_LEVEL="WARNING", CITYOS_ARCHIVE_DIR=str(tmp / "archive"))
    procs: list[subprocess.Popen[bytes]] = []
    try:
        token, ids = _prepare(url, args.entities)
        bodies, paths = [], []
        for i, entity_id in enumerate(ids * 4):
            value = 15.0 + (i % 200) / 10
            if args.path == "attr":
                paths.append(f"/ngsi-ld/v1/entities/{entity_id}/attrs/temperature")
                bodies.append(json.dumps({"value": value}).encode())
            else:
                paths.append(f"/ngsi-ld/v1/entities/{entity_id}/attrs")
                bodies.append(json.dumps({"temperature": {"type": "Property", "value": value}}).encode())
        apps = {"normal": "ngsi_updates:routes_app", "fast": "ngsi_updates:fast_app"}
        chosen = ["normal", "fast"] if args.app == "both" else [args.app]
        ports = {name: _free_port() for name in chosen}
        for name in chosen:
            procs.append(_start(apps[name], ports[name], env, factory=True, workers=args.workers))
            _wait_ready(ports[name], procs[-1])
        bare_port = _free_port()
        bare = _start("ngsi_updates:bare_app", bare_port, env, factory=False, workers=args.workers)
        procs.append(bare)
        _wait_ready(bare_port, bare)
        label = {"normal": "cityos (routes)", "fast": "cityos fast path"}
        loads = {name: _requests(f"127.0.0.1:{ports[name]}", paths, token, bodies) for name in chosen}
        bare_requests = _requests(f"127.0.0.1:{bare_port}", paths, token, bodies)
        for name in chosen:
            asyncio.run(_load("warm-up", ports[name], loads[name], args.connections, 1.5))
        asyncio.run(_load("warm-up", bare_port, bare_requests, args.connections, 1.0))
        measured: dict[str, list[Result]] = {name: [] for name in chosen}
        baseline: list[Result] = []
        for _ in range(args.rounds):
            for name in chosen:
                run = _load(label[name], ports[name], loads[name], args.connections, args.seconds)
                measured[name].append(asyncio.run(run))
            baseline.append(asyncio.run(_load("bare ASGI", bare_port, bare_requests, args.connections, args.seconds)))
        for proc in procs:
            _stop(proc)
        procs.clear()
        raw = _raw_sql(url, ids, min(args.seconds, 4.0))
    finally:
        for proc in procs:
            _stop(proc)
        _drop(url, admin)

    def median(rounds: list[Result]) -> Result:
        return sorted(rounds, key=lambda r: r.rate)[len(rounds) // 2]

    medians = {name: median(rounds) for name, rounds in measured.items()}
    mine, bare_r = medians.get("fast") or medians["normal"], median(baseline)
    db = "PostgreSQL" if admin else "SQLite (WAL)"
    route = "PATCH /entities/{id}/attrs/temperature" if args.path == "attr" else "PATCH /entities/{id}/attrs"
    print(
        f"NGSI-LD partial updates — {route}, {db}, {os.cpu_count()} CPUs, {args.connections} connections, "
        f"{args.workers} worker process(es)"
    )
    rounds = ", ".join(f"{label[n]} {[round(r.rate) for r in rs]}" for n, rs in measured.items())
    print(f"  rounds (updates/s): {rounds}, bare {[round(r.rate) for r in baseline]}")
    for r in (*medians.values(), bare_r, raw):
        print(
            f"  {r.label:<18} {r.rate:8.0f}/s   p50 {r.pct(0.5):6.1f} ms   p99 {r.pct(0.99):6.1f} ms"
            f"   errors {r.errors}"
        )
    for r in medians.values():
        if r.errors:
            print(f"  statuses of {r.label}: {r.statuses}")
    if len(medians) == 2:
        print(f"  fast path / routes: {medians['fast'].rate / medians['normal'].rate:.2f}")
    print(f"  ratio {mine.label} / bare ASGI on the same HTTP stack: {mine.rate / bare_r.rate:.2f}")
    print(f"  ratio {mine.label} / raw SQL updates on the same database: {mine.rate / raw.rate:.2f}")
    print(
        f"  anchor: Orion-LD ≈ {ANCHOR_ORION:.0f}/s on 2 CPUs → {mine.label} is {mine.rate / ANCHOR_ORION:.2f}× of it"
    )
    ok = mine.rate >= TARGET_RATE and mine.pct(0.99) <= TARGET_P99_MS and mine.errors == 0
    print(f"  target ≥ {TARGET_RATE:.0f}/s with p99 ≤ {TARGET_P99_MS:.0f} ms: {'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
