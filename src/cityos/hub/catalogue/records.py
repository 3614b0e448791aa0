"""Reading a dataset's rows (调阅) and its usage figures.

Who reads what:

- the owner department (and an administrator whose area holds it): every field; personal and
  sensitive fields are masked unless the reader holds ``pii:read``;
- anyone with ``dataset:read`` (accounts and apps) for an **open** dataset: every field (an open
  dataset has no personal field; should one appear it is masked);
- a department holding a **valid grant** (active, ``valid_from <= now < valid_until``, checked
  on every read): only the granted fields, the masked ones masked (masking.py);
- anyone else: refused, and nothing of the rows is said.

Every read, whatever the channel (API records, CSV export, the page sample), appends one row to
the hash-chained read log in the same transaction as the read.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityos.core.actor import Actor
from cityos.core.db import take_write_lock, utcnow
from cityos.core.errors import FieldError, Forbidden, Invalid
from cityos.core.i18n import N_
from cityos.core.settings import get_settings
from cityos.hub.catalogue import readlog, sources
from cityos.hub.catalogue.grants import active_grant
from cityos.hub.catalogue.masking import project
from cityos.hub.catalogue.models import DataGrant, Dataset, DatasetClass, ReadLogEntry
from cityos.hub.catalogue.service import get_dataset, owns

MAX_LIMIT = 200
EXPORT_LIMIT = 10_000
MAX_OFFSET = 1_000_000
USAGE_DAYS = 30

MSG_NO_GRANT = N_("Your department holds no valid grant for this dataset. Request access first.")
MSG_LIMIT = N_("Between 1 and {max}.")
MSG_OFFSET = N_("Between 0 and {max}.")


@dataclass(frozen=True)
class Access:
    fields: list[str]
    masked: set[str]
    grant: DataGrant | None
    department_id: int | None


@dataclass(frozen=True)
class Records:
    dataset: Dataset
    access: Access
    offset: int
    limit: int
    total: int
    items: list[dict[str, Any]]


def access_for(session: Session, actor: Actor, dataset: Dataset, *, now: datetime | None = None) -> Access:
    """What ``actor`` may read of ``dataset`` right now, or ``Forbidden``."""
    names = [f["name"] for f in dataset.fields]
    personal = {f["name"] for f in dataset.fields if f.get("sensitivity", "none") != "none"}
    if owns(actor, dataset):
        return Access(names, set() if actor.can("pii:read") else personal, None, dataset.department_id)
    if dataset.access_class == DatasetClass.OPEN:
        return Access(names, personal, None, actor.department_id)
    if actor.can("dataset:request"):
        grant = active_grant(session, dataset, actor.department_id, now or utcnow())
        if grant is not None:
            # A field dropped from the schema since the grant is not read; masks always hold.
            allowed = [n for n in grant.fields if n in names]
            return Access(allowed, set(grant.masked), grant, actor.department_id)
    raise Forbidden(MSG_NO_GRANT, params={"permission": "dataset:request"})


def types_of(dataset: Dataset) -> dict[str, str]:
    return {f["name"]: f["type"] for f in dataset.fields}


def may_read(session: Session, actor: Actor, dataset: Dataset) -> Access | None:
    try:
        return access_for(session, actor, dataset)
    except Forbidden:
        return None


def _bounds(offset: int, limit: int, max_limit: int) -> None:
    errors: list[FieldError] = []
    if not 0 <= offset <= MAX_OFFSET:
        errors.append(FieldError("offset", MSG_OFFSET, {"max": MAX_OFFSET}))
    if not 1 <= limit <= max_limit:
        errors.append(FieldError("limit", MSG_LIMIT, {"max": max_limit}))
    if errors:
        raise Invalid(details=errors)


def read_records(
    session: Session,
    actor: Actor,
    code: str,
    *,
    offset: int = 0,
    limit: int = 50,
    channel: str = "records",
    now: datetime | None = None,
    max_limit: int = MAX_LIMIT,
    upload_dir: Path | None = None,
) -> Records:
    """One page of rows, projected to what the reader may see; logged in the read log."""
    actor.require("dataset:read")
    _bounds(offset, limit, max_limit)
    take_write_lock(session)  # the grant is checked inside the transaction that logs the read
    dataset = get_dataset(session, actor, code)
    now = now or utcnow()
    access = access_for(session, actor, dataset, now=now)
    raw, total = sources.read(session, dataset, offset, limit, upload_dir=upload_dir)
    types = types_of(dataset)
    items = [project(row, access.fields, access.masked, types) for row in raw]
    readlog.append(
        session,
        actor,
        dataset,
        department_id=access.department_id,
        grant_id=access.grant.id if access.grant else None,
        channel=channel,
        query={"offset": offset, "limit": limit},
        row_count=len(items),
        fields=access.fields,
        at=now,
    )
    return Records(dataset, access, offset, limit, total, items)


def export_csv(
    session: Session, actor: Actor, code: str, *, now: datetime | None = None, upload_dir: Path | None = None
) -> tuple[str, Records]:
    """The readable rows as CSV (UTF-8 with BOM, so spreadsheet programs read the Chinese)."""
    result = read_records(
        session,
        actor,
        code,
        offset=0,
        limit=EXPORT_LIMIT,
        channel="export",
        now=now,
        max_limit=EXPORT_LIMIT,
        upload_dir=upload_dir,
    )
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.DictWriter(out, fieldnames=result.access.fields, extrasaction="ignore")
    writer.writeheader()
    for item in result.items:
        writer.writerow(
            {k: json.dumps(v, ensure_ascii=False) if isinstance(v, list | dict) else v for k, v in item.items()}
        )
    return out.getvalue(), result


# --- usage ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Usage:
    reads: int
    rows: int
    departments: int
    days: list[tuple[str, int, int]]  # (local day, reads, rows), oldest first


def usage(session: Session, actor: Actor, code: str, *, now: datetime | None = None) -> Usage:
    """Reads, rows and distinct reading departments (other than the owner) over the last 30
    days, and the same per day in the city's time zone."""
    dataset = get_dataset(session, actor, code)
    zone = ZoneInfo(get_settings().timezone)
    now = now or utcnow()
    today = now.astimezone(zone).date()
    first = today - timedelta(days=USAGE_DAYS - 1)
    since = datetime.combine(first, datetime.min.time(), tzinfo=zone)
    rows = session.execute(
        select(ReadLogEntry.at, ReadLogEntry.row_count, ReadLogEntry.department_id).where(
            ReadLogEntry.dataset_id == dataset.id, ReadLogEntry.at >= since
        )
    )
    per_day: dict[str, list[int]] = {(first + timedelta(days=i)).isoformat(): [0, 0] for i in range(USAGE_DAYS)}
    departments: set[int] = set()
    reads = total_rows = 0
    for at, count, department_id in rows:
        key = at.astimezone(zone).date().isoformat()
        if key in per_day:
            per_day[key][0] += 1
            per_day[key][1] += count
        reads += 1
        total_rows += count
        if department_id is not None and department_id != dataset.department_id:
            departments.add(department_id)
    return Usage(reads, total_rows, len(departments), [(day, v[0], v[1]) for day, v in per_day.items()])


def top_datasets(session: Session, *, now: datetime | None = None, limit: int = 10) -> list[tuple[str, int, int]]:
    """The most read datasets of the last 30 days: ``(code, reads, rows)``."""
    since = (now or utcnow()) - timedelta(days=USAGE_DAYS)
    reads = func.count(ReadLogEntry.id)
    return [
        (str(code), int(n), int(r or 0))
        for code, n, r in session.execute(
            select(ReadLogEntry.dataset_code, reads, func.sum(ReadLogEntry.row_count))
            .where(ReadLogEntry.at >= since)
            .group_by(ReadLogEntry.dataset_code)
            .order_by(reads.desc(), ReadLogEntry.dataset_code)
            .limit(limit)
        )
    ]
