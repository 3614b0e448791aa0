"""The NATS JetStream transport against the real broker (127.0.0.1:4222)."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from typing import ClassVar

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from cityos.core import bus, migrate
from cityos.core.db import make_engine, unit_of_work
from cityos.core.models import HandledEvent, OutboxEvent
from cityos.core.runtime import Runtime
from cityos.core.settings import Settings
from tests.conftest import need_service


@bus.event_type
class Parcel(bus.Event):
    topic: ClassVar[str] = "test.parcel"
    label: str


@pytest.fixture
def runtime(tmp_path) -> Iterator[Runtime]:  # type: ignore[no-untyped-def]
    # Its own file database: the consumer thread and the test use separate connections.
    settings = Settings(env="test", database_url=f"sqlite:///{tmp_path / 'nats.db'}")
    engine = make_engine(settings.database_url)
    migrate.upgrade(engine)
    rt = Runtime.create(settings, engine=engine)
    yield rt
    rt.close()


@pytest.fixture
def nats_bus(runtime: Runtime) -> Iterator[tuple[bus.Bus, object]]:
    try:
        from cityos.core.bus_nats import NatsTransport

        transport = NatsTransport(
            "nats://127.0.0.1:4222",
            stream=f"CITYOSTEST_{uuid.uuid4().hex[:8]}",
            prefix=f"cityostest{uuid.uuid4().hex[:8]}.",
            timeout=3,
        )
    except Exception as exc:
        need_service("NATS JetStream", repr(exc))
    nbus = bus.Bus(runtime.session_factory, transport)
    runtime.bus.close()  # only the NATS bus reacts to commits in this test
    yield nbus, transport
    nbus.close()
    transport.delete_stream()
    transport.close()


def _handled(runtime: Runtime, key: str) -> bool:
    with runtime.session_factory() as s:
        return s.scalar(select(HandledEvent.id).where(HandledEvent.key == key)) is not None


def test_events_travel_through_jetstream_once(runtime: Runtime, nats_bus) -> None:  # type: ignore[no-untyped-def]
    nbus, transport = nats_bus
    got: list[str] = []
    done = threading.Event()

    @nbus.subscribe(Parcel, "test-nats-consumer")
    def on_parcel(session: Session, evt: Parcel) -> None:
        got.append(evt.label)
        done.set()

    transport.start_consumer(nbus, durable=f"test{uuid.uuid4().hex[:6]}")
    with unit_of_work(runtime.session_factory) as s:
        bus.publish(s, Parcel(label="first"), key="parcel-1")
    assert done.wait(10), "event not delivered through NATS"
    with runtime.session_factory() as s:
        row = s.scalar(select(OutboxEvent).where(OutboxEvent.key == "parcel-1"))
        assert row is not None
        assert row.delivered_at is not None
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not _handled(runtime, "parcel-1"):
        time.sleep(0.05)
    assert _handled(runtime, "parcel-1")
    # Publishing the same key again (a retry after a crash) is deduplicated by JetStream and the handler log.
    transport.send(nbus, "test.parcel", "parcel-1", {"label": "first"})
    done.clear()
    assert not done.wait(1.5)
    assert got == ["first"]
