"""Group commit for NGSI-LD writes (合并提交).

Writes that arrive while another batch is being committed wait and then run together in one
transaction, in one worker thread with the write lock taken up front. One BEGIN/COMMIT (and one
thread hop) then serves many requests. A batch first runs without savepoints; when one of its
writes fails, the transaction is rolled back and the batch runs again with a savepoint per write,
so that the failing write rolls back only its savepoint and answers its own error. Each write
runs in the context of its request (language, audit context), and no response is sent before its
transaction committed. After any rollback the per-process tenant cache is dropped (a tenant seen
inside the rolled-back transaction may not exist).

Writes that are ``GroupedWork`` (the single-entity attribute writes, ``grouped.AttrWrite``) and
arrive next to each other in a batch without savepoints run through their class's ``run_group``,
which does the work of all of them in a few statements and answers each one's outcome; so does
such a write alone in its batch.

On SQLite a batch runs in the event loop's own thread when the write lock can be had at once
(``WRITE_NOW``): in WAL mode with ``synchronous=NORMAL`` a commit waits for no disk, so the
batch is CPU work, and running it there saves the thread hop and the GIL going back and forth
between the loop and the worker thread (+11 % partial updates per second on the bench). When another
connection holds the lock, and for the savepoint re-run, the batch goes to the worker thread,
which waits for the lock. PostgreSQL batches always run in the worker thread (network round trips).

The writers of several processes on one SQLite file (``cityos serve --workers``) take turns
through a file lock beside the database (``_Gate``, ``<database>-ngsi-writers``) before they ask
for SQLite's write lock. SQLite itself has no queue: a connection that finds the lock taken
sleeps in its busy handler (1, 2, 5, 10 ms …) and wakes late, so the lock stood idle while
requests waited. The kernel wakes a process waiting on a file lock as soon as it is released.
The wait happens in a worker thread and the batch then runs in the event loop's thread, so the
lock is never held by a thread that shares the GIL with a busy event loop (with two workers on
2 cores: 4,150 against 3,340 updates per second; one worker pays two system calls per batch).
The batch is cut once the turn is had, so the writes that came in during the wait go with it
(on the bench with two workers, 6.4 to 6.9 writes a batch instead of 5.5 to 5.6).
"""

from __future__ import annotations

import asyncio
import contextvars
import fcntl
import os
import weakref
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import anyio
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from cityos.core.db import BUSY_TIMEOUT_MS, WRITE_INTENT, WRITE_NOW, sqlite_file
from cityos.hub.ngsi.problems import retryable

MAX_BATCH = 128


class GroupedWork(ABC):
    """A write that can run together with the other writes of its class.

    Called, it runs alone (the savepoint path and one-write batches). ``run_group`` runs several
    in the open transaction and returns each one's outcome, ``(True, value)`` or ``(False,
    exception)``, in order; a write that fails must leave nothing written. An exception out of
    ``run_group`` itself fails the whole transaction (the batch then runs with savepoints)."""

    @abstractmethod
    def __call__(self, session: Session) -> Any: ...

    @classmethod
    @abstractmethod
    def run_group(
        cls, session: Session, works: Sequence[tuple[GroupedWork, contextvars.Context]]
    ) -> list[tuple[bool, Any]]: ...


class _Gate:
    """The turn of one process's writer among every process writing one SQLite file (see the
    module): an exclusive ``flock`` on ``<database>-ngsi-writers``, released by the kernel if
    the process dies. Each gate opens the file itself, so two gates of one process exclude each
    other too (a lock belongs to an open file, not to a process)."""

    def __init__(self, database: str) -> None:
        self.path = f"{database}-ngsi-writers"
        self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        self._close = weakref.finalize(self, os.close, self._fd)
        self.held = False

    def try_take(self) -> bool:
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        self.held = True
        return True

    def take(self) -> None:
        """Waits for the turn (a worker thread: the call blocks)."""
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        self.held = True

    def give(self) -> None:
        if self.held:
            self.held = False
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        self.give()
        self._close()


def _gate_for(factory: sessionmaker[Session]) -> _Gate | None:
    bind = factory.kw.get("bind")
    database = None if bind is None else sqlite_file(bind)
    if database is None:
        return None  # PostgreSQL, or a database no other process can open: nobody to take turns with
    try:
        return _Gate(database)
    except OSError:  # a directory it cannot write to: SQLite's busy handler alone, as before
        return None


@dataclass
class _Job:
    work: Callable[[Session], Any]
    context: contextvars.Context
    future: asyncio.Future[Any]
    ok: bool = False
    value: Any = None


@dataclass
class GroupWriter:
    """One per application and event loop (kept on ``app.state``)."""

    factory: sessionmaker[Session]
    pending: list[_Job] = field(default_factory=list)
    task: asyncio.Task[None] | None = None
    batches: int = 0
    jobs: int = 0
    plain_batches: int = 0  # batches that committed without savepoints
    retried: int = 0  # batches run again with savepoints after a failing write
    grouped: int = 0  # writes that ran through a ``GroupedWork.run_group``
    inline: int = 0  # batches that ran in the event loop's thread (SQLite, lock free at once)
    waited: int = 0  # batches that waited for another process's writer (SQLite, ``_Gate``)

    def __post_init__(self) -> None:
        bind = self.factory.kw.get("bind")
        self._sqlite = bind is not None and bind.dialect.name == "sqlite"
        self._gate: _Gate | None = None
        self._gated = self._sqlite
        self._own: Connection | None = None
        self._own_wait = True  # the own connection's busy timeout is the pool's (SQLite)

    def close(self) -> None:
        """Gives back the writer's own connection and closes the gate's file (the writer must be
        idle); a later batch opens them again."""
        self._drop_own()
        if self._gate is not None:
            self._gate.close()
            self._gate = None

    async def submit(self, work: Callable[[Session], Any]) -> Any:
        loop = asyncio.get_running_loop()
        job = _Job(work, contextvars.copy_context(), loop.create_future())
        self.pending.append(job)
        if self.task is None or self.task.done():
            self.task = loop.create_task(self._drain())
        return await job.future

    async def _drain(self) -> None:
        while self.pending:
            gate = self._turn() if self._sqlite else None
            batch: list[_Job] = []
            try:
                try:
                    if gate is not None and not gate.try_take():
                        self.waited += 1
                        # shielded: when the task is cancelled, the thread still returns, then gate.give()
                        await anyio.to_thread.run_sync(gate.take)
                    batch = self._cut()  # after the wait: the writes that came in meanwhile go too
                    if self._sqlite:
                        await self._run_sqlite(batch)
                    else:
                        await anyio.to_thread.run_sync(self._run, batch)
                finally:
                    if gate is not None:
                        gate.give()
            except BaseException as exc:  # the transaction itself failed: every write of it did
                if not batch:  # failed while waiting for the turn
                    batch = self._cut()
                for job in batch:
                    if not job.future.done():
                        job.future.set_exception(exc)
                if not isinstance(exc, Exception):
                    raise
                continue
            for job in batch:
                if job.future.done():  # the request went away
                    continue
                if job.ok:
                    job.future.set_result(job.value)
                else:
                    job.future.set_exception(job.value)

    def _cut(self) -> list[_Job]:
        batch, self.pending = self.pending[:MAX_BATCH], self.pending[MAX_BATCH:]
        return batch

    async def _run_sqlite(self, batch: list[_Job]) -> None:
        """The batch, with this process's turn among the writers taken (see ``_drain``)."""
        done = self._run_now(batch)
        if done is None:  # a connection outside the gate writes: wait for it in the thread
            await anyio.to_thread.run_sync(self._run, batch)
        elif not done:
            await anyio.to_thread.run_sync(self._rerun, batch)

    def _turn(self) -> _Gate | None:
        if self._gate is None and self._gated:
            self._gate = _gate_for(self.factory)
            self._gated = self._gate is not None
        return self._gate

    def _run_now(self, batch: list[_Job]) -> bool | None:
        """The batch in this (the event loop's) thread, without savepoints, if SQLite's write
        lock is free at once. None: it was not (nothing ran); True: committed; False: a write
        failed and everything was rolled back (the batch needs its savepoint run)."""
        try:
            session = self._locked(wait=False)
        except OperationalError:
            return None  # another connection writes: the worker thread waits for it
        self.batches += 1
        self.jobs += len(batch)
        self.inline += 1
        if not _plain_first(batch):
            self._run_savepoints(batch, session)  # one write needs no savepoint
            return True
        return self._run_plain(batch, session)

    def _run(self, batch: list[_Job]) -> None:
        self.batches += 1
        self.jobs += len(batch)
        if _plain_first(batch) and self._run_plain(batch, self._locked()):
            return
        self._run_savepoints(batch, self._locked())

    def _rerun(self, batch: list[_Job]) -> None:
        """A batch whose plain run in the loop failed, again with savepoints (worker thread)."""
        self._run_savepoints(batch, self._locked())

    def _locked(self, *, wait: bool = True, again: bool = True) -> Session:
        """A session whose transaction holds SQLite's write lock (``wait=False``: or
        OperationalError at once); on PostgreSQL an open transaction. It runs on the writer's
        own connection (``_own_connection``) whenever there is one; when that connection turns
        out to be dead (a database restart), once more on a new one, as the pool's pre-ping
        would have done."""
        own = self._own_connection()
        if own is None:
            session = self.factory()
            options = {WRITE_INTENT: True, WRITE_NOW: not wait}
        else:
            session = self.factory(bind=own)
            options = {WRITE_INTENT: True}
        try:
            if own is not None:
                self._own_waits(wait)
            session.connection(execution_options=options)
        except BaseException as exc:
            session.close()
            if own is None:
                raise
            if isinstance(exc, OperationalError) and retryable(exc) and not own.invalidated:
                raise  # SQLite's lock is taken: the connection stays, for the wait in the thread
            self._drop_own()  # a connection whose begin failed otherwise is not kept
            if again and isinstance(exc, DBAPIError) and exc.connection_invalidated:
                return self._locked(wait=wait, again=False)
            raise
        return session

    def _own_connection(self) -> Connection | None:
        """The connection every batch runs on, kept from batch to batch, so that a batch neither
        checks a connection out of the pool nor (SQLite) switches the busy timeout off and on
        (about a tenth of the time of a batch of seven). Above all the writer never waits for
        the pool: the requests waiting for their batch may hold every pooled connection (a
        route's session that read the caller's account), and a batch that needed one of them
        stalled them all until the pool's timeout. None when the factory is bound to a
        connection of its own (tests' outer transactions)."""
        bind = self.factory.kw.get("bind")
        if not isinstance(bind, Engine):
            return None
        if self._own is None or self._own.closed or self._own.invalidated:
            self._own = bind.connect()
            self._own_wait = True  # the pool's busy timeout
        return self._own

    def _own_waits(self, wait: bool) -> None:
        """SQLite: the own connection's busy timeout, 0 for a batch in the event loop (the lock at
        once or OperationalError) and ``BUSY_TIMEOUT_MS`` for one in the worker thread."""
        if not self._sqlite or self._own is None or wait == self._own_wait:
            return
        raw = self._own.connection.dbapi_connection
        raw.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS if wait else 0}")  # type: ignore[union-attr]
        self._own_wait = wait

    def _drop_own(self) -> None:
        own = self._own
        if own is None:
            return
        try:
            if not own.closed and not own.invalidated:
                self._own_waits(True)  # back in the pool, its other users wait for locks
        finally:
            self._own = None
            own.close()

    def _run_savepoints(self, batch: list[_Job], session: Session) -> None:
        """The batch in ``session`` with a savepoint per write (a single write without one)."""
        try:
            if len(batch) == 1:
                job = batch[0]
                try:
                    job.value, job.ok = job.context.run(job.work, session), True
                except Exception as exc:
                    session.rollback()
                    _rolled_back()
                    job.value = exc
                    return
            else:
                for job in batch:
                    savepoint = session.begin_nested()
                    try:
                        job.value, job.ok = job.context.run(job.work, session), True
                        savepoint.commit()
                    except Exception as exc:
                        savepoint.rollback()
                        _rolled_back()
                        job.value = exc
            session.commit()
        except BaseException:
            session.rollback()
            _rolled_back()
            raise
        finally:
            session.close()

    def _run_plain(self, batch: list[_Job], session: Session) -> bool:
        """The batch in one transaction without a savepoint per write (two statements fewer
        each). True when the transaction committed: every write succeeded, or failed inside a
        ``run_group`` that left nothing of it. When another write fails, everything is rolled
        back and False tells the caller to run the batch again with savepoints, so that the
        failing write answers its error and the others succeed."""
        self.plain_batches += 1
        grouped = 0
        try:
            outcomes: list[tuple[bool, Any]] = []
            for run in _runs(batch):
                try:
                    if isinstance(run[0].work, GroupedWork):
                        kind = type(run[0].work)
                        assert issubclass(kind, GroupedWork)
                        works = [(job.work, job.context) for job in run if isinstance(job.work, GroupedWork)]
                        outcomes.extend(kind.run_group(session, works))
                        grouped += len(run)
                    else:
                        outcomes.append((True, run[0].context.run(run[0].work, session)))
                except Exception:
                    session.rollback()
                    _rolled_back()
                    self.plain_batches -= 1
                    self.retried += 1
                    return False
            session.commit()
        except BaseException:
            session.rollback()
            _rolled_back()
            raise
        finally:
            session.close()
        self.grouped += grouped
        for job, (ok, value) in zip(batch, outcomes, strict=True):
            job.ok, job.value = ok, value
        return True


def _plain_first(batch: list[_Job]) -> bool:
    """Whether a batch runs without savepoints first: several writes, or one ``GroupedWork``
    (its ``run_group`` of one costs about a quarter less than its single path, whose statements
    go one by one through SQLAlchemy's compiled path)."""
    return len(batch) > 1 or isinstance(batch[0].work, GroupedWork)


def _runs(batch: list[_Job]) -> list[list[_Job]]:
    """The batch cut into runs: neighbouring writes of one ``GroupedWork`` class together,
    every other write alone."""
    runs: list[list[_Job]] = []
    for job in batch:
        last = runs[-1][-1].work if runs else None
        if isinstance(job.work, GroupedWork) and type(last) is type(job.work):
            runs[-1].append(job)
        else:
            runs.append([job])
    return runs


def _rolled_back() -> None:
    from cityos.hub.ngsi.service import forget_tenants  # service imports this module's users

    forget_tenants()
