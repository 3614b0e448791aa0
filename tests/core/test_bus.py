from __future__ import annotations

from typing import ClassVar

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityos.core import bus
from cityos.core.db import unit_of_work
from cityos.core.models import HandledEvent, OutboxEvent
from cityos.core.runtime import Runtime


@bus.event_type
class Pinged(bus.Event):
    topic: ClassVar[str] = "test.pinged"
    n: int


def test_event_delivered_after_commit_once(runtime: Runtime) -> None:
    seen: list[int] = []

    @runtime.bus.subscribe(Pinged, "test-consumer")
    def on_ping(session: Session, evt: Pinged) -> None:
        seen.append(evt.n)

    with unit_of_work(runtime.session_factory) as s:
        bus.publish(s, Pinged(n=7), key="k-7")
        assert seen == []  # not before commit
    assert seen == [7]
    # Redelivery of the same key does nothing (idempotent handler).
    runtime.bus.dispatch("test.pinged", "k-7", {"n": 7})
    assert seen == [7]


def test_many_events_in_one_statement_are_delivered_after_commit(runtime: Runtime) -> None:
    seen: list[int] = []
    runtime.bus.subscribe(Pinged, "c")(lambda s, e: seen.append(e.n))
    with unit_of_work(runtime.session_factory) as s:
        keys = bus.publish_many(s, [Pinged(n=n) for n in range(5)])
        assert bus.publish_many(s, []) == []
        assert len(set(keys)) == 5
        assert seen == []
    assert sorted(seen) == [0, 1, 2, 3, 4]
    with runtime.session_factory() as s:
        assert s.scalar(select(func.count()).select_from(OutboxEvent).where(OutboxEvent.delivered_at.is_(None))) == 0


def test_released_savepoint_does_not_deliver_before_the_outer_commit(runtime: Runtime) -> None:
    seen: list[int] = []
    runtime.bus.subscribe(Pinged, "c")(lambda s, e: seen.append(e.n))
    with unit_of_work(runtime.session_factory) as s:
        with s.begin_nested():  # a service that tries a step inside a SAVEPOINT
            bus.publish(s, Pinged(n=3))
        assert seen == []  # the savepoint was released, but nothing is committed yet
    assert seen == [3]  # delivered right after the outer commit, not left for the poller


def test_rolled_back_event_is_never_delivered(runtime: Runtime) -> None:
    seen: list[int] = []
    runtime.bus.subscribe(Pinged, "c")(lambda s, e: seen.append(e.n))

    def publish_then_fail() -> None:
        with unit_of_work(runtime.session_factory) as s:
            bus.publish(s, Pinged(n=1))
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        publish_then_fail()
    assert runtime.bus.deliver_pending() == 0
    assert seen == []
    with runtime.session_factory() as s:
        assert s.scalar(select(func.count()).select_from(OutboxEvent)) == 0


def test_failed_handler_is_retried_and_others_not_repeated(runtime: Runtime) -> None:
    calls = {"good": 0, "flaky": 0}

    @runtime.bus.subscribe(Pinged, "good")
    def good(session: Session, evt: Pinged) -> None:
        calls["good"] += 1

    @runtime.bus.subscribe(Pinged, "flaky")
    def flaky(session: Session, evt: Pinged) -> None:
        calls["flaky"] += 1
        if calls["flaky"] == 1:
            raise ValueError("transient")

    with unit_of_work(runtime.session_factory) as s:
        bus.publish(s, Pinged(n=2), key="k-2")
    with runtime.session_factory() as s:
        row = s.scalar(select(OutboxEvent).where(OutboxEvent.key == "k-2"))
        assert row is not None
        assert row.delivered_at is None
        assert "flaky" in (row.last_error or "")
    assert runtime.bus.deliver_pending() == 1
    assert calls == {"good": 1, "flaky": 2}
    with runtime.session_factory() as s:
        assert s.scalar(select(func.count()).select_from(HandledEvent).where(HandledEvent.key == "k-2")) == 2


def test_handlers_that_write_are_not_locked_out_on_a_sqlite_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Several events in one commit, each handler writing in its own transaction, on a real
    SQLite file (one writer at a time): delivery must not hold a write lock while handlers run."""
    import time

    from cityos.core import audit, migrate
    from cityos.core.db import make_engine
    from cityos.core.models import AuditRecord
    from cityos.core.settings import Settings

    url = f"sqlite:///{tmp_path / 'bus.db'}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    settings = Settings(env="test", database_url=url)
    settings_runtime = Runtime.create(settings, engine=engine)
    try:

        @settings_runtime.bus.subscribe(Pinged, "writer")
        def write(session: Session, evt: Pinged) -> None:
            audit.record(session, None, f"test.handled.{evt.n}")

        started = time.perf_counter()
        with unit_of_work(settings_runtime.session_factory) as s:
            for n in range(3):
                bus.publish(s, Pinged(n=n), key=f"file-{n}")
        assert time.perf_counter() - started < 5  # a lock wait would take the 30 s busy timeout
        with settings_runtime.session_factory() as s:
            handled = set(s.scalars(select(AuditRecord.action).where(AuditRecord.action.startswith("test.handled."))))
            pending = s.scalar(select(func.count()).select_from(OutboxEvent).where(OutboxEvent.delivered_at.is_(None)))
        assert handled == {"test.handled.0", "test.handled.1", "test.handled.2"}
        assert pending == 0
    finally:
        settings_runtime.close()
