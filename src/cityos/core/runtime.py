"""The process's long-lived resources, created in the app's lifespan or a CLI command."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from cityos.core.bus import Bus
from cityos.core.crypto import BlindIndex, FieldCipher
from cityos.core.db import make_engine, make_sessionmaker
from cityos.core.settings import Settings, get_settings


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]
    bus: Bus

    @classmethod
    def create(cls, settings: Settings | None = None, *, engine: Engine | None = None) -> Runtime:
        settings = settings or get_settings()
        engine = engine or make_engine(settings.database_url)
        factory = make_sessionmaker(engine)
        if settings.bus_transport == "nats":
            from cityos.core.bus_nats import NatsTransport

            transport = NatsTransport(settings.nats_url)
            bus = Bus(factory, transport)
            transport.start_consumer(bus, durable="cityos")
            return cls(settings=settings, engine=engine, session_factory=factory, bus=bus)
        return cls(settings=settings, engine=engine, session_factory=factory, bus=Bus(factory))

    def close(self) -> None:
        self.bus.close()
        close_transport = getattr(self.bus.transport, "close", None)
        if close_transport is not None:
            close_transport()
        self.engine.dispose()


@lru_cache(maxsize=1)
def field_cipher() -> FieldCipher:
    return FieldCipher.from_settings(get_settings())


@lru_cache(maxsize=1)
def blind_index() -> BlindIndex:
    return BlindIndex.from_settings(get_settings())
