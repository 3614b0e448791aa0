"""SQLite: the write-ahead log copied back into the database file by a background thread.

By default SQLite does this inside a writer's ``COMMIT`` once the log holds 1,000 pages: that
commit then copies the pages and waits for two ``fsync``s while it still holds the write lock,
so every writer of every process waits too (the NGSI-LD partial updates' p99 on the bench was
12 ms with it, 8 ms without). The server's background process (one per database,
``core/leader.py``) runs a ``PASSIVE`` checkpoint from its own connection soon after each write
instead: it takes no write lock, writers go on meanwhile, and the log restarts from its
beginning at the next write, so a writer's own checkpoint rarely has anything left to do. A
checkpoint is still run by a commit when this thread is not running (the CLI, tests), as before.
"""

from __future__ import annotations

import logging
import sqlite3
import threading

from sqlalchemy.engine import Engine

from cityos.core.db import sqlite_file

log = logging.getLogger(__name__)

CHECK_SECONDS = 0.02  # how often it looks (one PRAGMA); a checkpoint only after a commit


class WalCheckpointer:
    """The thread (``start``/``stop``); ``run_once`` is one look, for tests."""

    def __init__(self, database: str, interval: float = CHECK_SECONDS) -> None:
        self.database = database
        self.interval = interval
        self.checkpoints = 0
        self._seen: int | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._conn: sqlite3.Connection | None = None

    @classmethod
    def for_engine(cls, engine: Engine) -> WalCheckpointer | None:
        """One for an engine on a SQLite file; None for PostgreSQL and in-memory databases."""
        database = sqlite_file(engine)
        return None if database is None else cls(database)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, daemon=True, name="wal-checkpoint")
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def run_once(self) -> bool:
        """A checkpoint when another connection committed since the last look; True when one ran."""
        if self._conn is None:
            # its own connection: no pool slot, no busy wait (a PASSIVE checkpoint never waits)
            self._conn = sqlite3.connect(self.database, timeout=0, isolation_level=None, check_same_thread=False)
        # changes whenever another connection commits (a read of the shared WAL index, no I/O)
        (version,) = self._conn.execute("PRAGMA data_version").fetchone()
        if version == self._seen:
            return False
        self._conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        self._seen = version
        self.checkpoints += 1
        return True

    def _loop(self) -> None:
        try:
            while not self._stop.wait(self.interval):
                try:
                    self.run_once()
                except sqlite3.Error as exc:  # the next look tries again
                    log.warning("db.wal_checkpoint_failed", extra={"error": str(exc)})
        finally:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
