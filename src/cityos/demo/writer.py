"""Bulk writing for the generator: ids assigned in Python, rows inserted with Core in batches."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Table, bindparam, func, insert, select, text, update
from sqlalchemy.orm import Session

from cityos.core.db import Base
from cityos.identity.models import Account, AccountRole, OAuthClient
from cityos.people.models import Department, Household, Organisation, Person, PersonTag, Residence, Responsibility
from cityos.places.models import Region

# Parents before children, so foreign keys hold at every flush.
MODELS: tuple[type[Base], ...] = (
    Region,
    Organisation,
    Department,
    Responsibility,
    Person,
    Household,
    Residence,
    PersonTag,
    Account,
    AccountRole,
    OAuthClient,
)
TABLES: tuple[Table, ...] = tuple(cast(Table, m.__table__) for m in MODELS)


class BulkWriter:
    """Buffers rows per table and inserts them with one executemany per table and flush."""

    def __init__(self, session: Session, *, batch: int = 20_000) -> None:
        self.session = session
        self.batch = batch
        # table -> column set -> rows: rows of one executemany must have the same keys.
        self._rows: dict[str, dict[tuple[str, ...], list[dict[str, Any]]]] = {t.name: {} for t in TABLES}
        self._next: dict[str, int] = {}
        self._pending = 0
        self.counts: dict[str, int] = {t.name: 0 for t in TABLES}
        for table in TABLES:
            top = session.scalar(select(func.max(table.c.id)))
            self._next[table.name] = int(top or 0) + 1

    def new_id(self, model: type[Base]) -> int:
        name = model.__tablename__
        value = self._next[name]
        self._next[name] = value + 1
        return value

    def add(self, model: type[Base], row: dict[str, Any]) -> None:
        self._rows[model.__tablename__].setdefault(tuple(row), []).append(row)
        self._pending += 1
        if self._pending >= self.batch:
            self.flush()

    def flush(self) -> None:
        for table in TABLES:
            groups = self._rows[table.name]
            # Wider rows first: a region with geometry (a building) is the parent of rows without (its units).
            for keys in sorted(groups, key=len, reverse=True):
                self.session.execute(insert(table), groups[keys])
                self.counts[table.name] += len(groups[keys])
            self._rows[table.name] = {}
        self._pending = 0

    def update_regions(self, rows: list[dict[str, Any]]) -> None:
        """Bulk UPDATE of existing region rows; each row has ``b_id`` and the columns to set."""
        if not rows:
            return
        self.flush()
        table = cast(Table, Region.__table__)
        columns = [k for k in rows[0] if k != "b_id"]
        stmt = update(table).where(table.c.id == bindparam("b_id")).values({c: bindparam(c) for c in columns})
        self.session.connection().execute(stmt, rows)

    def finish(self) -> None:
        """Flush, then move PostgreSQL's id sequences past the ids assigned here."""
        self.flush()
        if self.session.get_bind().dialect.name != "postgresql":
            return
        for table in TABLES:
            self.session.execute(
                text(f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), (SELECT MAX(id) FROM {table.name}))")
            )
