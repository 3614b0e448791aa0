"""Database: declarative base, portable column types, engine and session factories."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, MetaData, String, create_engine, event
from sqlalchemy import exc as exc_module
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Connection, Dialect, Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import StaticPool
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC timestamps on every database (SQLite stores naive text)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# JSON on SQLite, JSONB on PostgreSQL.
JSONType = JSON().with_variant(JSONB(), "postgresql")

# Materialised paths compare byte-wise on both databases (PostgreSQL's default collation
# would ignore the separators and break prefix range scans).
PathType = String(512).with_variant(String(512, collation="C"), "postgresql")


def json_text(value: Any) -> str:
    """The JSON text the platform stores (``JSONType`` on SQLite; statements in driver SQL)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def sqlite_timestamp(moment: datetime) -> str:
    """How ``UTCDateTime`` stores an aware datetime on SQLite (SQLAlchemy's naive UTC text), for
    statements in driver SQL."""
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


BUSY_TIMEOUT_MS = 30_000  # SQLite: how long a statement waits for a lock held by another connection


def make_engine(url: str, *, echo: bool = False) -> Engine:
    if url.startswith("sqlite"):
        memory = url in ("sqlite://", "sqlite:///:memory:")
        engine = create_engine(
            url,
            echo=echo,
            json_serializer=json_text,
            connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000},
            # Room for every worker thread: a connection beyond the pool is closed when returned,
            # and a new one pays for its pragmas and starts with a cold page cache.
            **({"poolclass": StaticPool} if memory else {"pool_size": 20, "max_overflow": 20}),
        )

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            # Let SQLAlchemy own transaction boundaries (pysqlite's implicit BEGIN breaks SAVEPOINT).
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            if not memory:
                cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            cur.execute("PRAGMA cache_size=-65536")
            cur.execute("PRAGMA temp_store=MEMORY")
            cur.close()

        @event.listens_for(engine, "begin")
        def _begin(conn: Any) -> None:
            # A deferred transaction that reads, then writes after another connection committed,
            # fails at once with "database is locked" (the WAL snapshot is stale; busy_timeout
            # does not help). Work that is known to write asks for the write lock up front.
            options = conn.get_execution_options()
            raw = conn.connection.dbapi_connection
            if not options.get(WRITE_INTENT, False):
                _driver_begin(raw, "BEGIN")
            elif options.get(WRITE_NOW, False):
                # the lock now or "database is locked" now (the caller then waits elsewhere)
                raw.execute("PRAGMA busy_timeout=0")
                try:
                    _driver_begin(raw, "BEGIN IMMEDIATE")
                finally:
                    raw.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            else:
                _driver_begin(raw, "BEGIN IMMEDIATE")

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return create_engine(url, echo=echo, json_serializer=json_text, pool_pre_ping=True, pool_size=10)


def _driver_begin(raw: Any, statement: str) -> None:
    """``BEGIN`` on the driver's connection: it starts every transaction (a third of the cost of
    a one-write NGSI-LD batch's begin went to SQLAlchemy's statement execution). A listener's
    error is not wrapped by SQLAlchemy, so the driver's is, as a statement's would be."""
    try:
        raw.execute(statement)
    except sqlite3.Error as exc:
        raise exc_module.DBAPIError.instance(statement, (), exc, sqlite3.Error) from exc


_WROTE = "cityos.wrote"
WRITE_INTENT = "cityos_write_intent"  # execution option: this transaction will write (SQLite: BEGIN IMMEDIATE)
# with WRITE_INTENT: take SQLite's write lock without waiting, or fail at once (OperationalError)
WRITE_NOW = "cityos_write_now"
_READ_PREFIXES = ("SELECT", "WITH", "PRAGMA", "BEGIN", "SHOW")


@event.listens_for(Engine, "begin")
def _reset_wrote(conn: Connection) -> None:
    conn.info[_WROTE] = False


@event.listens_for(Engine, "before_cursor_execute")
def _note_write(conn: Connection, _cursor: Any, statement: str, *_args: Any) -> None:
    # Anything but a read marks the transaction as one that must be committed.
    if not statement.lstrip()[:6].upper().startswith(_READ_PREFIXES):
        conn.info[_WROTE] = True


def note_write(conn: Connection) -> None:
    """Marks the open transaction as one that wrote, for writes that bypass the statement events
    (psycopg ``COPY``), so the request commits it."""
    conn.info[_WROTE] = True


def sqlite_file(bind: Engine | Connection) -> str | None:
    """The file of a SQLite database, or None (PostgreSQL, in memory, a ``file:`` URI): what
    other processes can share, so what a cross-process lock or a checkpointer is about."""
    if bind.dialect.name != "sqlite":
        return None
    database = bind.engine.url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return database


def driver_rows(conn: Connection, statement: str, params: Sequence[Any]) -> Sequence[Any]:
    """The rows of a read in the driver's own SQL and paramstyle, run on the DBAPI connection of
    ``conn`` in its open transaction. For the statements of a hot path: it saves SQLAlchemy's
    execution context (about half the time of a small statement); nothing converts the values."""
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(statement, params)
        return cursor.fetchall()
    finally:
        cursor.close()


def driver_write(conn: Connection, statement: str, rows: Sequence[Sequence[Any]]) -> None:
    """A write in the driver's own SQL, once per parameter row (executemany), on the DBAPI
    connection of ``conn`` in its open transaction (see ``driver_rows``); the transaction is
    marked as one that wrote, as the statement events would have."""
    if not rows:
        return
    note_write(conn)
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.executemany(statement, rows)
    finally:
        cursor.close()


def only_read(session: Session) -> bool:
    """True when the session's open transaction (if any) has executed nothing but reads, so
    ending it cannot lose a write."""
    if not session.in_transaction():
        return True
    if session.new or session.dirty or session.deleted:
        return False
    return not session.connection().info.get(_WROTE, True)


def take_write_lock(session: Session) -> None:
    """On SQLite, make the transaction a writer before it reads what its write depends on.

    A deferred SQLite transaction that has only read cannot become a writer once another
    connection has committed ("database is locked", whatever the busy timeout), so a read-only
    transaction is ended (nothing is lost: it wrote nothing) and a ``BEGIN IMMEDIATE`` one
    started, which waits for the write lock instead. PostgreSQL needs nothing."""
    if session.get_bind().dialect.name != "sqlite" or session.in_nested_transaction() or not only_read(session):
        return
    if session.in_transaction():
        session.rollback()
    session.connection(execution_options={WRITE_INTENT: True})


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=True)


@contextmanager
def unit_of_work(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A CLI command's or job's transaction: commit on success, roll back on error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
