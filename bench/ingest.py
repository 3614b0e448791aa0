"""Benchmark: device messages per second through the hub's ingest writer, against a raw bulk
insert of the same observation rows into the same ``sensor_observation`` table.

Usage: .venv/bin/python bench/ingest.py [--devices 100] [--batch 1000] [--batches 10] [--rounds 3]
       [--database-url postgresql://postgres@127.0.0.1:5432/postgres]

Builds a fresh database (a SQLite file by default; ``--database-url`` names a PostgreSQL server,
where a throw-away database is created and dropped), registers ``--devices`` waste-container
sensors through the service, then in each round writes ``--batches`` batches of ``--batch``
messages (every device sends the same number per batch; three readings each: fill level,
temperature, status) the way the MQTT writer does: one transaction per batch through
``pipeline.process`` — envelope and profile checks, scaling and ranges, the message-id
de-duplication (INSERT … ON CONFLICT DO NOTHING RETURNING), the observations in bulk
(``temporal.append_observations``), the latest values of every device's entity in one store
call per batch (``ngsi.upsert_many``: one SELECT, one bulk INSERT, one executemany UPDATE), the
device's state, one DeviceObserved event per device, the tallies. ``--devices 1000`` makes every
message of a batch come from a different device (the per-device costs at their largest).

The baseline, in the same run on the same database: the very rows the hub path stores, prepared
in advance, bulk-inserted with one Core executemany per batch, one transaction per batch.
Rounds alternate; the median round of each is reported. Prints messages/s, observation rows/s,
the ratio (target >= 0.5) and exits 1 when it is missed.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any, cast

TARGET_RATIO = 0.5


def _database(arg: str | None, tmp: Path) -> tuple[str, str | None]:
    """(database URL, admin URL to drop it afterwards, for PostgreSQL)."""
    if not arg:
        return f"sqlite:///{tmp / 'ingest-bench.db'}", None
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


def _prepare(factory: Any, devices: int) -> list[int]:
    from cityos.core.actor import SYSTEM
    from cityos.core.db import unit_of_work
    from cityos.hub.ingest import profiles, service
    from cityos.places.models import LEVEL_DEPTH, Region

    with unit_of_work(factory) as session:
        profiles.install(session)
        city = Region(code="BENCH", name="基准市", level="city", path="/pending/", depth=LEVEL_DEPTH["city"], attrs={})
        session.add(city)
        session.flush()
        city.path = f"/{city.id}/"
        session.flush()
        ids = []
        for i in range(devices):
            device, _ = service.register_device(
                session, SYSTEM, code=f"bench-bin-{i:04d}", kind="bin", name=f"桶{i}", region_id=city.id,
                profile_code="waste-container", lon=104.0 + i / 10_000, lat=30.6,
            )  # fmt: skip
            ids.append(device.id)
    return ids


def _batches(device_ids: list[int], batch: int, batches: int, tag: str) -> list[list[Any]]:
    from cityos.core.db import utcnow
    from cityos.hub.ingest.pipeline import Inbound

    now = utcnow()
    out = []
    n = 0
    for b in range(batches):
        items = []
        for i in range(batch):
            device_id = device_ids[i % len(device_ids)]
            ts = (now - timedelta(seconds=batch - i)).isoformat()
            values = {"fill": n % 100, "temperature": 15 + n % 20, "status": "ok"}
            body = {"mid": f"{tag}-{b}-{i}", "ts": ts, "values": values}
            items.append(Inbound(channel="mqtt", device_id=device_id, body=body))
            n += 1
        out.append(items)
    return out


def _hub_round(factory: Any, batches: list[list[Any]]) -> tuple[float, int]:
    from cityos.core.db import WRITE_INTENT
    from cityos.hub.ingest import pipeline

    accepted = 0
    started = time.perf_counter()
    for items in batches:
        with factory() as session:
            session.connection(execution_options={WRITE_INTENT: True})
            outcomes = pipeline.process(session, items)
            session.commit()
        accepted += sum(1 for o in outcomes if o.status == "accepted")
    return time.perf_counter() - started, accepted


def _rows_of(factory: Any, since: Any) -> list[dict[str, Any]]:
    """The observation rows one hub round stored, as insert parameters grouped per batch."""
    from sqlalchemy import select

    from cityos.hub.temporal.models import SensorObservation

    columns = [c for c in cast(Any, SensorObservation.__table__).columns if c.name != "id"]
    with factory() as session:
        rows = session.execute(
            select(*columns).where(SensorObservation.created_at >= since).order_by(SensorObservation.id)
        ).all()
    # New instance ids, made before the clock starts (the baseline pays nothing but the insert).
    return [{**dict(r._mapping), "instance_id": f"urn:ngsi-ld:attribute-instance:{uuid.uuid4()}"} for r in rows]


def _raw_round(engine: Any, batches: list[list[dict[str, Any]]]) -> float:
    from sqlalchemy import insert

    from cityos.hub.temporal.models import SensorObservation

    table = cast(Any, SensorObservation.__table__)
    started = time.perf_counter()
    for params in batches:
        with engine.begin() as conn:
            conn.execute(insert(table), params)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--devices", type=int, default=100)
    parser.add_argument("--batch", type=int, default=1000, help="messages per batch (one transaction)")
    parser.add_argument("--batches", type=int, default=10, help="batches per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--database-url", default=None, help="a PostgreSQL admin URL (default: a SQLite file)")
    args = parser.parse_args()

    from cityos.core import migrate
    from cityos.core.db import make_engine, make_sessionmaker, utcnow

    tmp = Path(tempfile.mkdtemp(prefix="ingest-bench-"))
    url, admin = _database(args.database_url, tmp)
    engine = make_engine(url)
    try:
        migrate.upgrade(engine)
        factory = make_sessionmaker(engine)
        device_ids = _prepare(factory, args.devices)
        # A warm-up round (caches, profile parsing, the first entity versions), not measured.
        _hub_round(factory, _batches(device_ids, args.batch, 1, "warm"))
        hub_times, raw_times = [], []
        messages = args.batch * args.batches
        readings = 0
        for r in range(args.rounds):
            batches = _batches(device_ids, args.batch, args.batches, f"r{r}")
            since = utcnow()
            seconds, accepted = _hub_round(factory, batches)
            if accepted != messages:
                print(f"round {r}: only {accepted} of {messages} accepted", file=sys.stderr)
                return 2
            hub_times.append(seconds)
            stored = _rows_of(factory, since)
            readings = len(stored) // messages
            per = len(stored) // args.batches
            raw_batches = [stored[i * per : (i + 1) * per] for i in range(args.batches)]
            raw_times.append(_raw_round(engine, raw_batches))
        hub, raw = statistics.median(hub_times), statistics.median(raw_times)
        hub_rate, raw_rate = messages / hub, messages / raw
        ratio = hub_rate / raw_rate
        kind = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
        print(f"database: {kind}; {args.devices} devices, {args.batches} batches × {args.batch} messages per round, "
              f"{readings} readings per message, {args.rounds} rounds (median)")  # fmt: skip
        print(f"hub ingest writer : {hub_rate:10,.0f} messages/s  ({hub_rate * readings:10,.0f} observation rows/s)")
        print(f"raw bulk insert   : {raw_rate:10,.0f} messages/s  ({raw_rate * readings:10,.0f} observation rows/s)")
        print(f"ratio             : {ratio:.2f} (target >= {TARGET_RATIO})")
        return 0 if ratio >= TARGET_RATIO else 1
    finally:
        engine.dispose()
        _drop(url, admin)


if __name__ == "__main__":
    sys.exit(main())
