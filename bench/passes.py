"""Benchmark: offline entry-pass verifications per second on one core (电子出入码 at a gate).

Usage: .venv/bin/python bench/passes.py [--tokens 20000] [--rounds 5] [--revoked 500] [--blocked 20]

Builds a fresh SQLite database in var/bench/passes.db with one estate of 40 buildings, gives
`--tokens` of its rooms' residents an entry pass (plain inserts of EntryPass rows), revokes
`--revoked` more passes and blocks `--blocked` rooms, then signs one token per pass with the
estate's own Ed25519 key through the service (``service.sign_token``: the estate key from the
database, the rules' rotation period, the current time step). The gate's view is then fixed:
the estate's public key, its rotation period and the revocation list read from the database.

Pinned to one core, `--rounds` rounds alternate between the two loops over the same tokens, so
a slow spell of a shared machine falls on both:
- cityos: ``offline.verify_offline`` — the full offline check (form, estate, signature, time
  step within the skew, validity, revocation list, blocked rooms); every token must pass;
- baseline: raw Ed25519 verification of the same tokens with cryptography's
  ``Ed25519PublicKey.verify`` on the message and signature bytes decoded beforehand (only the
  signature, nothing else).
The best round of each is compared. Target: cityos ≥ 0.5 of the raw rate.
"""

from __future__ import annotations

import argparse
import base64
import os
import random
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from cityos.community.access.offline import RevocationList  # noqa: E402
from cityos.core.settings import ROOT_DIR  # noqa: E402

PASSES_DB = ROOT_DIR / "var" / "bench" / "passes.db"
TARGET = 0.5
COLUMNS = (
    TextColumn("{task.description}"),
    BarColumn(),
    MofNCompleteColumn(),
    TimeElapsedColumn(),
)


def pin_one_core() -> str:
    """Run on one core (the first this process may use) where the system allows it."""
    if hasattr(os, "sched_setaffinity"):
        core = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {core})
        return f"core {core}"
    return "not pinned (no sched_setaffinity)"


@dataclass(frozen=True)
class Built:
    tokens: list[str]
    public_key: bytes
    revocation: RevocationList
    rotation: int
    now: datetime


def build(console: Console, *, tokens: int, revoked: int, blocked: int, seed: int) -> Built:
    """The database, the passes and the tokens signed by the service, and the gate's view."""
    from sqlalchemy import insert, select

    from cityos.community.access import rules, service
    from cityos.community.access.models import BlockedRoom, EntryPass
    from cityos.core import migrate
    from cityos.core.db import make_engine, make_sessionmaker, unit_of_work, utcnow
    from cityos.places.models import LEVEL_DEPTH, Region

    PASSES_DB.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{PASSES_DB}{suffix}").unlink(missing_ok=True)
    engine = make_engine(f"sqlite:///{PASSES_DB}")
    console.print("migrating a fresh database …")
    migrate.upgrade(engine)
    factory = make_sessionmaker(engine)
    rng = random.Random(seed)
    rooms_needed = tokens + revoked + blocked
    per_building = 6 * 4 * 4  # units × floors × rooms
    buildings = max(40, -(-rooms_needed // per_building))
    now = utcnow()
    with unit_of_work(factory) as session:
        parent = None
        for level, name in (
            ("city", "压测市"),
            ("district", "压测区"),
            ("street", "压测街道"),
            ("community", "压测社区"),
            ("grid", "压测网格"),
            ("estate", "压测小区"),
        ):
            region = Region(
                code=f"B-{level}",
                name=name,
                level=level,
                parent_id=parent.id if parent else None,
                path="/pending/",
                depth=LEVEL_DEPTH[level],
                attrs={},
            )
            session.add(region)
            session.flush()
            region.path = f"{parent.path if parent else '/'}{region.id}/"
            parent = region
        estate = parent
        assert estate is not None
        session.flush()
        next_id = int(session.scalar(select(Region.id).order_by(Region.id.desc()).limit(1)) or 0) + 1
        room_rows: list[dict[str, object]] = []
        region_rows: list[dict[str, object]] = []
        for b in range(buildings):
            bid = next_id
            next_id += 1
            bpath = f"{estate.path}{bid}/"
            region_rows.append(
                {
                    "id": bid,
                    "code": f"B-b{b}",
                    "name": f"{b + 1}栋",
                    "level": "building",
                    "parent_id": estate.id,
                    "path": bpath,
                    "depth": LEVEL_DEPTH["building"],
                    "attrs": {},
                }
            )
            for u in range(6):
                uid = next_id
                next_id += 1
                upath = f"{bpath}{uid}/"
                region_rows.append(
                    {
                        "id": uid,
                        "code": f"B-b{b}u{u}",
                        "name": f"{u + 1}单元",
                        "level": "unit",
                        "parent_id": bid,
                        "path": upath,
                        "depth": LEVEL_DEPTH["unit"],
                        "attrs": {},
                    }
                )
                for r in range(16):
                    rid = next_id
                    next_id += 1
                    code = f"B{b:03d}{u}{r:02d}"
                    row = {
                        "id": rid,
                        "code": code,
                        "name": f"{r // 4 + 1}0{r % 4 + 1}",
                        "level": "room",
                        "parent_id": uid,
                        "path": f"{upath}{rid}/",
                        "depth": LEVEL_DEPTH["room"],
                        "attrs": {},
                    }
                    region_rows.append(row)
                    room_rows.append(row)
        session.execute(insert(Region), region_rows)
        rng.shuffle(room_rows)
        label = f"{estate.name} 1栋 1单元 101"
        pass_rows = [
            {
                "estate_id": estate.id,
                "estate_path": estate.path,
                "room_id": room["id"],
                "room_code": room["code"],
                "label": label,
                "kind": "resident",
                "relation": "owner" if i % 3 else "tenant",
                "status": "active",
                "valid_from": now - timedelta(days=rng.randrange(1, 20)),
                "valid_until": now + timedelta(days=rng.randrange(1, 30)),
                "created_at": now,
            }
            for i, room in enumerate(room_rows[: tokens + revoked])
        ]
        session.execute(insert(EntryPass), pass_rows)
        ids = list(session.scalars(select(EntryPass.id).order_by(EntryPass.id)))
        stopped = ids[tokens:]
        for pass_id in stopped:
            p = session.get(EntryPass, pass_id)
            assert p is not None
            service.stop_pass(p, "revoked", "压测", now)
        session.execute(
            insert(BlockedRoom),
            [
                {
                    "estate_id": estate.id,
                    "room_id": room["id"],
                    "room_code": room["code"],
                    "label": label,
                    "reason": "压测封控",
                    "blocked_at": now,
                }
                for room in room_rows[tokens + revoked : tokens + revoked + blocked]
            ],
        )
        session.flush()
        rotation = rules.for_estate(session, estate).rotation_seconds
        signed: list[str] = []
        with Progress(*COLUMNS, console=console) as bar:
            task = bar.add_task("signing tokens (service.sign_token)", total=tokens)
            for pass_id in ids[:tokens]:
                p = session.get(EntryPass, pass_id)
                assert p is not None
                signed.append(service.sign_token(session, p, now=now).token)
                bar.advance(task)
        public = service.estate_key(session, estate.id).public_bytes()
        revocation = service.revocation_list(session, estate, now=now)
        assert len(revocation.passes) == revoked
        assert len(revocation.rooms) == blocked
    engine.dispose()
    return Built(signed, public, revocation, rotation, now)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--revoked", type=int, default=500)
    parser.add_argument("--blocked", type=int, default=20)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    console = Console()

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    from cityos.community.access import offline

    built = build(console, tokens=args.tokens, revoked=args.revoked, blocked=args.blocked, seed=args.seed)
    tokens, public, revocation, rotation, now = (
        built.tokens,
        built.public_key,
        built.revocation,
        built.rotation,
        built.now,
    )
    pinned = pin_one_core()
    console.print(f"{len(tokens):,} tokens of {len(tokens[0])} characters; {pinned}")
    key = Ed25519PublicKey.from_public_bytes(public)
    raw = []
    for token in tokens:
        head, _, sig = token.partition(".")
        raw.append((head.encode("ascii"), base64.urlsafe_b64decode(sig + "=" * (-len(sig) % 4))))
    # Both loops hold the same key object; verify_offline would otherwise load it once and cache it.
    at = now.timestamp()

    def full() -> float:
        started = time.perf_counter()
        for token in tokens:
            if not offline.verify_offline(token, public_key=key, revocation=revocation, now=at, rotation=rotation).ok:
                raise SystemExit(f"a valid token was refused: {token}")
        return time.perf_counter() - started

    def baseline() -> float:
        started = time.perf_counter()
        verify = key.verify
        for message, signature in raw:
            verify(signature, message)
        return time.perf_counter() - started

    full_times: list[float] = []
    raw_times: list[float] = []
    with Progress(*COLUMNS, console=console) as bar:
        task = bar.add_task("verifying (alternate rounds: verify_offline, raw Ed25519)", total=2 * args.rounds)
        for _ in range(args.rounds):
            full_times.append(full())
            bar.advance(task)
            raw_times.append(baseline())
            bar.advance(task)
    n = len(tokens)
    full_rate = n / min(full_times)
    raw_rate = n / min(raw_times)
    ratio = full_rate / raw_rate
    table = Table(title="offline pass verification on one core")
    table.add_column("measure")
    table.add_column("verifications/s", justify="right")
    table.add_column("µs each", justify="right")
    table.add_column("rounds (verifications/s)")
    table.add_row(
        "cityos verify_offline (full checks)",
        f"{full_rate:,.0f}",
        f"{1e6 / full_rate:.1f}",
        ", ".join(f"{n / t:,.0f}" for t in full_times),
    )
    table.add_row(
        "baseline: raw Ed25519PublicKey.verify",
        f"{raw_rate:,.0f}",
        f"{1e6 / raw_rate:.1f}",
        ", ".join(f"{n / t:,.0f}" for t in raw_times),
    )
    console.print(table)
    console.print(
        f"revocation list: {len(revocation.passes):,} passes, {len(revocation.rooms)} rooms; rotation {rotation} s"
    )
    console.print(f"ratio cityos / raw: [bold]{ratio:.2f}[/bold] (target ≥ {TARGET})")
    return 0 if ratio >= TARGET else 1


if __name__ == "__main__":
    raise SystemExit(main())
