"""The read log (调阅日志): every read of a dataset appends one row, chained by hash.

``hash`` = SHA-256 over the canonical JSON of the row's content (sorted keys, no spaces, UTF-8)
followed by ``prev_hash``. Appends first update the single chain-head row, which takes a row lock
on PostgreSQL and the database write lock on SQLite, so concurrent readers append one after the
other and the chain stays linear. ``verify_chain`` recomputes every hash and reports the first
row that does not match (edited, deleted or re-ordered).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from cityos.core.actor import Actor
from cityos.core.db import take_write_lock, utcnow
from cityos.core.errors import Forbidden
from cityos.core.pagination import PageParams, fetch_page
from cityos.hub.catalogue.models import Dataset, ReadLogEntry, ReadLogHead

GENESIS = "0" * 64
BATCH = 1000


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def content(row: ReadLogEntry) -> dict[str, Any]:
    """What the hash covers: every column but ``id``, ``hash`` and ``prev_hash``."""
    return {
        "seq": int(row.seq),
        "at": _iso(row.at),
        "account_id": row.account_id,
        "client_id": row.client_id,
        "actor_label": row.actor_label,
        "department_id": row.department_id,
        "dataset_id": row.dataset_id,
        "dataset_code": row.dataset_code,
        "owner_department_id": row.owner_department_id,
        "grant_id": row.grant_id,
        "channel": row.channel,
        "query": row.query,
        "row_count": row.row_count,
        "fields": row.fields,
    }


def digest(row: ReadLogEntry, prev_hash: str) -> str:
    canonical = json.dumps(content(row), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256((canonical + prev_hash).encode("utf-8")).hexdigest()


def _head(session: Session) -> ReadLogHead:
    head = session.get(ReadLogHead, 1)
    if head is None:
        head = ReadLogHead(id=1, seq=0, hash="")
        session.add(head)
        session.flush()
    return head


def append(
    session: Session,
    actor: Actor,
    dataset: Dataset,
    *,
    department_id: int | None,
    grant_id: int | None,
    channel: str,
    query: dict[str, Any],
    row_count: int,
    fields: list[str],
    at: datetime | None = None,
) -> ReadLogEntry:
    """Append one read to the chain (inside the caller's transaction)."""
    take_write_lock(session)
    _head(session)
    # Lock the head first: the UPDATE waits for any other appender's transaction to end.
    session.execute(update(ReadLogHead).where(ReadLogHead.id == 1).values(seq=ReadLogHead.seq + 1))
    head = session.get(ReadLogHead, 1, populate_existing=True)
    assert head is not None
    prev = head.hash or GENESIS
    # Microseconds are the finest both databases keep, so the hash survives the round trip.
    row = ReadLogEntry(
        seq=int(head.seq),
        at=(at or utcnow()).astimezone(UTC),
        account_id=actor.account_id,
        client_id=actor.client_id,
        actor_label=actor.label[:128],
        department_id=department_id,
        dataset_id=dataset.id,
        dataset_code=dataset.code,
        owner_department_id=dataset.department_id,
        grant_id=grant_id,
        channel=channel,
        query=query,
        row_count=row_count,
        fields=list(fields),
        prev_hash=prev,
    )
    row.hash = digest(row, prev)
    head.hash = row.hash
    session.add(row)
    session.flush()
    return row


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    checked: int
    first_bad_seq: int | None = None
    first_bad_id: int | None = None
    problem: str | None = None  # "hash" | "link" | "gap" | "head"


def _rows(session: Session) -> Iterator[ReadLogEntry]:
    last = 0
    while True:
        batch = list(
            session.scalars(select(ReadLogEntry).where(ReadLogEntry.seq > last).order_by(ReadLogEntry.seq).limit(BATCH))
        )
        if not batch:
            return
        yield from batch
        last = int(batch[-1].seq)


def count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(ReadLogEntry)) or 0)


def verify_chain(session: Session, *, progress: Callable[[int], None] | None = None) -> ChainReport:
    """Walk the chain in order; the first row whose hash, link or sequence is wrong is reported."""
    prev = GENESIS
    expected_seq = 1
    checked = 0
    for row in _rows(session):
        if int(row.seq) != expected_seq:
            return ChainReport(False, checked, int(row.seq), row.id, "gap")
        if row.prev_hash != prev:
            return ChainReport(False, checked, int(row.seq), row.id, "link")
        if digest(row, prev) != row.hash:
            return ChainReport(False, checked, int(row.seq), row.id, "hash")
        prev = row.hash
        expected_seq += 1
        checked += 1
        if progress is not None:
            progress(1)
    head = session.get(ReadLogHead, 1)
    if head is not None and head.seq and (int(head.seq) != checked or (head.hash or GENESIS) != prev):
        # Rows removed from the end: the head still remembers how long the chain was.
        return ChainReport(False, checked, checked + 1, None, "head")
    return ChainReport(True, checked)


def may_audit(actor: Actor) -> bool:
    return actor.can("audit:read")


def may_verify(actor: Actor) -> bool:
    """Checking the chain says nothing about the reads: auditors and approving departments may."""
    return may_audit(actor) or (actor.can("dataset:approve") and actor.department_id is not None)


def entries(
    session: Session, actor: Actor, params: PageParams, *, dataset_code: str | None = None
) -> tuple[list[ReadLogEntry], int | None]:
    """The log, newest first: everything with ``audit:read``; otherwise the reads of one's own
    department's datasets (a data officer's view of who read their data)."""
    query = select(ReadLogEntry).order_by(ReadLogEntry.seq.desc())
    if not may_audit(actor):
        if not actor.can("dataset:approve") or actor.department_id is None:
            raise Forbidden(params={"permission": "audit:read"})
        query = query.where(ReadLogEntry.owner_department_id == actor.department_id)
    if dataset_code:
        query = query.where(ReadLogEntry.dataset_code == dataset_code)
    return fetch_page(session, query, params)
