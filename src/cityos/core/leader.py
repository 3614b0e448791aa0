"""Which worker process runs the background work (后台任务只在一个进程中运行).

``cityos serve --workers N`` starts N processes that answer requests alike. The background work
must run in one of them only: the outbox poller, the workflow timers and the modules' per-minute
jobs, and the data hub's workers (MQTT ingest, subscription notifications, webhooks). Two MQTT
clients with one client id push each other off the broker, and two timer loops would each fire a
time limit. The process that holds an exclusive lock (``flock``) on a file named after the
database runs it. When that process exits, the kernel frees the lock and a waiting process takes
over within ``POLL_SECONDS``. With one worker process (the default) nothing is elected and no
lock is taken.

The lock is per machine. Serving one PostgreSQL database from several machines is not covered
here: each machine would elect a process of its own.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import threading
from collections.abc import Callable
from pathlib import Path

import structlog

log = structlog.get_logger(__name__)

POLL_SECONDS = 5.0  # how often a waiting process tries the lock


class Leadership:
    """The lock of one database's background work, as one process sees it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None
        self._guard = threading.Lock()  # start and close never run at the same time
        self._closed = threading.Event()

    @classmethod
    def for_database(cls, database_url: str, folder: Path) -> Leadership:
        """The lock file in ``folder`` for ``database_url`` (hashed: a URL may hold a password)."""
        digest = hashlib.sha256(database_url.encode()).hexdigest()[:16]
        return cls(folder / f".background-{digest}.lock")

    @property
    def held(self) -> bool:
        return self._fd is not None

    def try_acquire(self) -> bool:
        """Takes the lock if no other process (or other ``Leadership`` here) holds it."""
        if self._fd is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def follow(self, start: Callable[[], None]) -> bool:
        """Calls ``start`` now when the lock is free (True), else from a daemon thread as soon as
        this process gets it (False); never after ``close``."""
        if self._attempt(start):
            return True
        threading.Thread(target=self._wait, args=(start,), daemon=True, name="background-wait").start()
        return False

    def _attempt(self, start: Callable[[], None]) -> bool:
        """``start`` if not closed and the lock is had now; the guard keeps ``close`` out meanwhile."""
        with self._guard:
            if self._closed.is_set() or not self.try_acquire():
                return False
            log.info("background.leader", pid=os.getpid())
            start()
            return True

    def _wait(self, start: Callable[[], None]) -> None:
        while not self._closed.wait(POLL_SECONDS):
            if self._attempt(start):
                return

    def close(self) -> None:
        """No ``start`` from now on; the lock is released (another process may take it over)."""
        with self._guard:
            self._closed.set()
            self.release()
