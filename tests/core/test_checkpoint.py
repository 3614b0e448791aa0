"""The background WAL checkpoint: the log is copied into the database file after writes."""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path

from cityos.core.checkpoint import WalCheckpointer
from cityos.core.db import make_engine


def _writer(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA wal_autocheckpoint=0")  # only the checkpointer copies the log here
    conn.execute("CREATE TABLE t (x BLOB)")
    return conn


def _write(conn: sqlite3.Connection, rows: int) -> None:
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany("INSERT INTO t VALUES (randomblob(4000))", [()] * rows)
    conn.execute("COMMIT")


def test_a_look_after_a_write_copies_the_log_into_the_database_file(tmp_path: Path) -> None:
    path = tmp_path / "w.db"
    conn = _writer(path)
    checkpointer = WalCheckpointer(str(path))
    try:
        checkpointer.run_once()
        size = path.stat().st_size
        _write(conn, 50)
        assert path.stat().st_size == size  # the rows are in the log only
        assert checkpointer.run_once() is True
        assert path.stat().st_size >= size + 50 * 4000
        assert checkpointer.run_once() is False  # nothing written since: nothing to do
        assert conn.execute("SELECT count(*) FROM t").fetchone() == (50,)
    finally:
        conn.close()


def test_the_thread_checkpoints_while_writers_go_on_and_stops(tmp_path: Path) -> None:
    path = tmp_path / "w.db"
    conn = _writer(path)
    checkpointer = WalCheckpointer(str(path), interval=0.01)
    checkpointer.start()
    try:
        size = path.stat().st_size
        deadline = time.monotonic() + 5
        while checkpointer.checkpoints < 2 and time.monotonic() < deadline:
            _write(conn, 5)
            time.sleep(0.02)
        assert checkpointer.checkpoints >= 2
        assert path.stat().st_size > size
    finally:
        checkpointer.stop()
        conn.close()
    done = checkpointer.checkpoints
    time.sleep(0.05)
    assert checkpointer.checkpoints == done  # stopped


def test_no_checkpointer_for_postgresql_or_memory(tmp_path: Path) -> None:
    memory = make_engine("sqlite://")
    file_engine = make_engine(f"sqlite:///{tmp_path / 'f.db'}")
    postgres = make_engine("postgresql://nobody@127.0.0.1:1/none")  # never connected
    try:
        assert WalCheckpointer.for_engine(memory) is None
        assert WalCheckpointer.for_engine(postgres) is None
        found = WalCheckpointer.for_engine(file_engine)
        assert found is not None
        assert os.path.basename(found.database) == "f.db"
    finally:
        for engine in (memory, file_engine, postgres):
            engine.dispose()
