"""NATS JetStream transport for the bus (production; the in-process transport is the default).

Outbox rows are published to the subject ``cityos.<topic>`` with the event key as
``Nats-Msg-Id``, so JetStream drops a re-published duplicate inside its dedupe window. A durable
pull consumer per process group hands messages to ``Bus.dispatch``; handlers stay idempotent
through ``handled_event``, which covers redeliveries after the window too.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

import nats
import structlog
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.api import StreamConfig
from nats.js.errors import NotFoundError

from cityos.core.bus import Bus

log = structlog.get_logger(__name__)
T = TypeVar("T")

STREAM = "CITYOS"
SUBJECT_PREFIX = "cityos."


class NatsTransport:
    def __init__(self, url: str, *, stream: str = STREAM, prefix: str = SUBJECT_PREFIX, timeout: float = 5.0) -> None:
        self.url = url
        self.stream = stream
        self.prefix = prefix
        self.timeout = timeout
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True, name="nats-loop")
        self._thread.start()
        self._nc: Client | None = None
        self._js: JetStreamContext | None = None
        self._consumers: list[asyncio.Task[None]] = []
        self._run(self._connect())

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(self.timeout + 5)

    async def _connect(self) -> None:
        self._nc = await nats.connect(self.url, connect_timeout=self.timeout, max_reconnect_attempts=3)
        self._js = self._nc.jetstream(timeout=self.timeout)
        try:
            await self._js.stream_info(self.stream)
        except NotFoundError:
            await self._js.add_stream(StreamConfig(name=self.stream, subjects=[f"{self.prefix}>"]))

    def send(self, bus: Bus, topic: str, key: str, payload: dict[str, Any]) -> None:
        data = json.dumps(payload, ensure_ascii=False).encode()
        self._run(self._publish(self.prefix + topic, data, key))

    async def _publish(self, subject: str, data: bytes, key: str) -> None:
        assert self._js is not None
        await self._js.publish(subject, data, headers={"Nats-Msg-Id": key})

    def start_consumer(self, bus: Bus, durable: str, *, batch: int = 50) -> None:
        """Deliver messages of every topic to ``bus.dispatch`` until ``close()``."""
        ready = threading.Event()

        def schedule() -> None:
            task = self._loop.create_task(self._consume(bus, durable, batch, ready))
            self._consumers.append(task)

        self._loop.call_soon_threadsafe(schedule)
        if not ready.wait(self.timeout + 5):
            raise TimeoutError("NATS consumer did not start")

    async def _consume(self, bus: Bus, durable: str, batch: int, ready: threading.Event) -> None:
        assert self._js is not None
        sub = await self._js.pull_subscribe(f"{self.prefix}>", durable=durable, stream=self.stream)
        ready.set()
        while True:
            try:
                messages = await sub.fetch(batch, timeout=1)
            except TimeoutError:
                continue
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("bus.nats_fetch_failed")
                await asyncio.sleep(1)
                continue
            for msg in messages:
                topic = msg.subject.removeprefix(self.prefix)
                key = (msg.headers or {}).get("Nats-Msg-Id", "")
                try:
                    payload = json.loads(msg.data)
                    await asyncio.to_thread(bus.dispatch, topic, key, payload)
                except Exception:
                    log.warning("bus.nats_dispatch_failed", topic=topic)
                    await msg.nak(delay=2)
                    continue
                await msg.ack()

    def delete_stream(self) -> None:
        async def delete() -> None:
            assert self._js is not None
            await self._js.delete_stream(self.stream)

        self._run(delete())

    def close(self) -> None:
        async def shutdown() -> None:
            for task in self._consumers:
                task.cancel()
            await asyncio.gather(*self._consumers, return_exceptions=True)
            if self._nc is not None and not self._nc.is_closed:
                await self._nc.close()  # unacknowledged messages are redelivered; no drain needed

        try:
            self._run(shutdown())
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=5)
            if not self._thread.is_alive():
                self._loop.close()
