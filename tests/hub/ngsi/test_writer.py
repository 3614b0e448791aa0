"""Group commit: concurrent writes share one transaction; a failing one answers only its error."""

from __future__ import annotations

import asyncio
import fcntl
import os
import sqlite3
import threading
import time
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session, sessionmaker

from cityos.core.db import BUSY_TIMEOUT_MS, make_engine, make_sessionmaker
from cityos.core.errors import Invalid
from cityos.hub.ngsi import service as store
from cityos.hub.ngsi.writer import GroupWriter


def _upsert(tenant: str, i: int) -> Any:
    """A write of entity ``i`` of ``tenant`` that answers ``i``."""

    def work(session: Session) -> int:
        store.upsert_attributes(
            session, tenant=tenant, entity_id=f"urn:ngsi-ld:Thing:{i}", entity_type="Thing", attrs={"n": i}
        )
        return i

    return work


def test_concurrent_writes_commit_together(session_factory: sessionmaker[Session]) -> None:
    writer = GroupWriter(session_factory)

    def upsert(i: int) -> Any:
        def work(session: Session) -> str:
            store.upsert_attributes(
                session, tenant="gw", entity_id=f"urn:ngsi-ld:Thing:{i}", entity_type="Thing", attrs={"n": i}
            )
            return f"ok {i}"

        return work

    def failing(session: Session) -> None:
        store.upsert_attributes(session, tenant="gw", entity_id="urn:ngsi-ld:Thing:x", entity_type="Thing", attrs={})
        raise Invalid("refused after a write")

    async def main() -> list[Any]:
        return await asyncio.gather(
            *(writer.submit(upsert(i)) for i in range(5)), writer.submit(failing), return_exceptions=True
        )

    results = asyncio.run(main())
    assert results[:5] == [f"ok {i}" for i in range(5)]
    assert isinstance(results[5], Invalid)
    assert writer.jobs == 6
    assert writer.batches < 6  # they were grouped
    assert writer.retried >= 1  # the batch with the failing write ran again with savepoints
    with session_factory() as check:
        assert store.get_entity(check, tenant="gw", entity_id="urn:ngsi-ld:Thing:4") is not None
        assert store.get_entity(check, tenant="gw", entity_id="urn:ngsi-ld:Thing:x") is None  # rolled back alone


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_errors_keep_the_callers_language(client: TestClient, auth: dict[str, str], lang: str) -> None:
    body = [{"id": "bad", "type": "Thing"}, {"id": "urn:ngsi-ld:Thing:ok", "type": "Thing"}]
    r = client.post("/ngsi-ld/v1/entityOperations/create", json=body, headers={**auth, "Accept-Language": lang})
    assert r.status_code == 207
    title = r.json()["errors"][0]["error"]["title"]
    assert (title == "The request data is not valid") == (lang == "en")


def test_a_batch_without_failures_commits_without_savepoints(session_factory: sessionmaker[Session]) -> None:
    writer = GroupWriter(session_factory)

    async def main() -> list[Any]:
        return await asyncio.gather(*(writer.submit(_upsert("gw2", i)) for i in range(6)))

    assert asyncio.run(main()) == list(range(6))
    assert writer.plain_batches >= 1
    assert writer.retried == 0
    with session_factory() as check:
        assert store.tenant_exists(check, "gw2")
        assert len(store.entities_of_type(check, tenant="gw2", entity_type="Thing", limit=10, offset=0)) == 6


def test_a_tenant_first_seen_in_a_rolled_back_batch_is_created_again(session_factory: sessionmaker[Session]) -> None:
    writer = GroupWriter(session_factory)

    def upsert(i: int) -> Any:
        def work(session: Session) -> int:
            store.upsert_attributes(
                session, tenant="gw3", entity_id=f"urn:ngsi-ld:Thing:{i}", entity_type="Thing", attrs={"n": i}
            )
            if i == 2:
                raise Invalid("refused after a write")
            return i

        return work

    async def main() -> list[Any]:
        return await asyncio.gather(*(writer.submit(upsert(i)) for i in range(4)), return_exceptions=True)

    results = asyncio.run(main())
    assert [r for r in results if not isinstance(r, Exception)] == [0, 1, 3]
    store.forget_tenants()
    with session_factory() as check:
        assert store.tenant_exists(check, "gw3")  # the tenant row was written in the second run


def test_sqlite_batches_run_in_the_loop_unless_another_connection_writes(isolated_url: str) -> None:
    """On SQLite a batch runs in the event loop's thread when the write lock is free at once; when
    another connection holds it, the batch waits for it in the worker thread and still commits."""
    if not isolated_url.startswith("sqlite"):
        pytest.skip("the event-loop path is SQLite's")
    engine = make_engine(isolated_url)
    factory = make_sessionmaker(engine)
    writer = GroupWriter(factory)

    async def write(i: int) -> Any:
        return await writer.submit(_upsert("gw4", i))

    try:
        assert asyncio.run(write(1)) == 1
        assert (writer.inline, writer.batches) == (1, 1)

        blocker = engine.raw_connection()
        blocker.execute("BEGIN IMMEDIATE")  # another writer holds the lock for a moment
        release = threading.Timer(0.3, blocker.commit)
        release.start()
        started = time.monotonic()
        assert asyncio.run(write(2)) == 2
        assert time.monotonic() - started >= 0.25  # it waited for the lock, in the worker thread
        assert (writer.inline, writer.batches) == (1, 2)
        release.join()
        blocker.close()
        with factory() as check:
            assert len(store.entities_of_type(check, tenant="gw4", entity_type="Thing", limit=10, offset=0)) == 2
    finally:
        store.forget_tenants()
        engine.dispose()


def test_sqlite_writers_of_two_processes_take_turns_through_the_gate(isolated_url: str) -> None:
    """Another process's writer holds the turn (the flock beside the database): a batch waits for
    it without spinning in SQLite's busy handler, then runs in the event loop's thread, and gives
    the turn back afterwards."""
    if not isolated_url.startswith("sqlite"):
        pytest.skip("the gate is SQLite's")
    engine = make_engine(isolated_url)
    writer = GroupWriter(make_sessionmaker(engine))
    gate_path = f"{engine.url.database}-ngsi-writers"

    async def write(i: int) -> Any:
        return await writer.submit(_upsert("gw5", i))

    try:
        assert asyncio.run(write(1)) == 1
        assert (writer.waited, writer.inline) == (0, 1)

        other = os.open(gate_path, os.O_RDWR)  # as another process opens it
        fcntl.flock(other, fcntl.LOCK_EX)
        release = threading.Timer(0.3, fcntl.flock, (other, fcntl.LOCK_UN))
        release.start()
        started = time.monotonic()
        assert asyncio.run(write(2)) == 2
        assert time.monotonic() - started >= 0.25  # it waited for the other writer's turn
        assert (writer.waited, writer.inline, writer.batches) == (1, 2, 2)  # then ran in the loop
        release.join()

        fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)  # the writer gave its turn back
        fcntl.flock(other, fcntl.LOCK_UN)
        os.close(other)
        with make_sessionmaker(engine)() as check:
            assert len(store.entities_of_type(check, tenant="gw5", entity_type="Thing", limit=10, offset=0)) == 2
    finally:
        writer.close()
        store.forget_tenants()
        engine.dispose()


def test_writes_that_arrive_while_the_writer_waits_for_its_turn_join_the_batch(isolated_url: str) -> None:
    """The batch is cut when the turn is had, not before the wait: a write that came in while
    another process's writer held the turn commits in the same transaction as the first."""
    if not isolated_url.startswith("sqlite"):
        pytest.skip("the gate is SQLite's")
    engine = make_engine(isolated_url)
    writer = GroupWriter(make_sessionmaker(engine))
    other = os.open(f"{engine.url.database}-ngsi-writers", os.O_RDWR | os.O_CREAT, 0o600)

    async def scenario() -> list[Any]:
        fcntl.flock(other, fcntl.LOCK_EX)  # as another process's writer holds the turn
        first = asyncio.ensure_future(writer.submit(_upsert("gw7", 1)))
        while writer.waited == 0:  # the first write is waiting for the turn
            await asyncio.sleep(0.005)
        second = asyncio.ensure_future(writer.submit(_upsert("gw7", 2)))
        await asyncio.sleep(0.05)
        assert not first.done()
        assert not second.done()
        fcntl.flock(other, fcntl.LOCK_UN)
        return list(await asyncio.gather(first, second))

    try:
        assert asyncio.run(scenario()) == [1, 2]
        assert (writer.waited, writer.batches, writer.jobs) == (1, 1, 2)
        with make_sessionmaker(engine)() as check:
            assert len(store.entities_of_type(check, tenant="gw7", entity_type="Thing", limit=10, offset=0)) == 2
    finally:
        os.close(other)
        writer.close()
        store.forget_tenants()
        engine.dispose()


def test_a_failing_batch_gives_the_turn_back(isolated_url: str) -> None:
    if not isolated_url.startswith("sqlite"):
        pytest.skip("the gate is SQLite's")
    engine = make_engine(isolated_url)
    writer = GroupWriter(make_sessionmaker(engine))

    def broken(session: Session) -> None:
        raise Invalid("refused")

    try:
        with pytest.raises(Invalid):
            asyncio.run(writer.submit(broken))
        other = os.open(f"{engine.url.database}-ngsi-writers", os.O_RDWR)
        try:
            fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)  # would raise BlockingIOError if still held
        finally:
            os.close(other)
    finally:
        writer.close()
        engine.dispose()


def test_an_in_memory_database_has_no_gate() -> None:
    engine = make_engine("sqlite://")
    writer = GroupWriter(make_sessionmaker(engine))
    try:
        assert writer._turn() is None
    finally:
        engine.dispose()


def test_loop_batches_keep_one_connection_and_give_it_back_able_to_wait(isolated_url: str) -> None:
    """The event loop's batches run on one connection of the writer's (no checkout per batch, its
    busy timeout 0); given back, that connection waits for locks again like every pooled one."""
    if not isolated_url.startswith("sqlite"):
        pytest.skip("the event-loop path is SQLite's")
    engine = make_engine(isolated_url)
    writer = GroupWriter(make_sessionmaker(engine))
    checkouts: list[int] = []
    event.listen(engine, "checkout", lambda *_: checkouts.append(1))

    async def write(i: int) -> Any:
        return await writer.submit(_upsert("gw6", i))

    try:
        assert [asyncio.run(write(i)) for i in range(3)] == [0, 1, 2]
        assert (writer.inline, len(checkouts)) == (3, 1)
        writer.close()
        with engine.connect() as conn:  # the pool's only connection: the one the writer gave back
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == BUSY_TIMEOUT_MS
        assert engine.pool.checkedout() == 0
    finally:
        writer.close()
        store.forget_tenants()
        engine.dispose()


def test_a_batch_that_waits_for_the_lock_does_not_need_the_pool(isolated_url: str) -> None:
    """The requests waiting for their batch may hold every pooled connection (a route's session
    that read the caller's account) and more may be queueing for one; a batch that has to wait
    for SQLite's write lock (or any batch on PostgreSQL) runs on the writer's own connection, so
    it does not stall them all until the pool's timeout."""
    engine = make_engine(isolated_url)
    engine.pool._timeout = 1.0  # type: ignore[attr-defined]  # the default 30 s would hide nothing, only slowly
    writer = GroupWriter(make_sessionmaker(engine))
    held = []
    queued: list[Any] = []
    try:
        assert asyncio.run(writer.submit(_upsert("gw8", 1))) == 1  # the writer has its connection
        while True:  # every pooled connection taken
            try:
                held.append(engine.connect())
            except PoolTimeout:
                break

        # another request queues for a connection: any the writer gave back would go to it
        def wait_for_one() -> None:
            try:
                queued.append(engine.connect())
            except PoolTimeout:
                pass

        waiter = threading.Thread(target=wait_for_one)
        waiter.start()
        blocker = None
        if isolated_url.startswith("sqlite"):
            blocker = sqlite3.connect(engine.url.database, isolation_level=None, check_same_thread=False)
            blocker.execute("BEGIN IMMEDIATE")  # another connection has the write lock: the thread path
            threading.Timer(0.3, blocker.rollback).start()
        assert asyncio.run(writer.submit(_upsert("gw8", 2))) == 2
        if blocker is not None:
            assert writer.inline == 1  # the second batch waited for the lock in the worker thread
            blocker.close()
        waiter.join()
        assert queued == []  # the writer gave nothing back to the pool
    finally:
        for conn in held + queued:
            conn.close()
        writer.close()
        store.forget_tenants()
        engine.dispose()
    with make_sessionmaker(make_engine(isolated_url))() as check:
        assert len(store.entities_of_type(check, tenant="gw8", entity_type="Thing", limit=10, offset=0)) == 2
