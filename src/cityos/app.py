"""FastAPI application factory: mounts every module's routers and pages."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import anyio
import structlog
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from starlette.responses import JSONResponse, Response

from cityos import __version__
from cityos.core.checkpoint import WalCheckpointer
from cityos.core.leader import Leadership
from cityos.core.logging import configure_logging
from cityos.core.runtime import Runtime
from cityos.core.settings import Settings, get_settings
from cityos.registry import subscribe_all
from cityos.web import errors, middleware
from cityos.web.templating import STATIC_DIR

log = structlog.get_logger(__name__)


def _outbox_poller(runtime: Runtime, stop: threading.Event, interval: float = 5.0) -> None:
    """Retries events whose first delivery failed (at-least-once); every minute, fires the
    process time limits that are due (timers are rows, so a restart misses nothing); once a day
    (and after a start), runs the 服务找人 evaluation, which never offers anything twice."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from cityos.community.setup import periodic as community_periodic
    from cityos.core.db import unit_of_work
    from cityos.emergency.setup import periodic as emergency_periodic
    from cityos.hub.setup import periodic as hub_periodic
    from cityos.mobility.setup import periodic as mobility_periodic
    from cityos.services.proactive.tasks import nightly
    from cityos.workflow.service import fire_due_timers

    zone = ZoneInfo(runtime.settings.timezone)
    last_day = None
    ticks = 0
    while not stop.wait(interval):
        ticks += 1
        try:
            runtime.bus.deliver_pending()
        except Exception:
            log.exception("bus.poller_failed")
        if ticks % max(1, int(60 / interval)) == 0:
            try:
                with unit_of_work(runtime.session_factory) as session:
                    fire_due_timers(session)
            except Exception:
                log.exception("workflow.timers_failed")
            jobs = (
                ("community", community_periodic),
                ("emergency", emergency_periodic),
                ("hub", hub_periodic),
                ("mobility", mobility_periodic),
            )
            for name, job in jobs:
                try:
                    with unit_of_work(runtime.session_factory) as session:
                        job(session)
                except Exception:
                    log.exception("periodic_failed", module=name)
            today = datetime.now(zone).date()
            if today != last_day:
                try:
                    with unit_of_work(runtime.session_factory) as session:
                        nightly(session, today=today)
                    last_day = today
                except Exception:
                    log.exception("proactive.nightly_failed")


def create_app(settings: Settings | None = None, runtime: Runtime | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings.log_level)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = runtime is None
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.effective_worker_threads
        rt = runtime or Runtime.create(settings)
        app.state.runtime = rt
        if owned:
            subscribe_all(rt.bus)
        stop = threading.Event()
        poller = threading.Thread(target=_outbox_poller, args=(rt, stop), daemon=True, name="outbox")
        stop_hub: Callable[[], None] | None = None
        leadership: Leadership | None = None
        checkpointer = WalCheckpointer.for_engine(rt.engine) if owned else None

        def start_background() -> None:
            nonlocal stop_hub
            from cityos.hub.setup import start as start_hub

            poller.start()
            if checkpointer is not None:
                checkpointer.start()
            stop_hub = start_hub(rt)

        if owned and settings.workers > 1:  # one of the worker processes runs it (core/leader.py)
            leadership = Leadership.for_database(settings.database_url, settings.archive_dir)
            leadership.follow(start_background)
        elif owned:
            start_background()
        try:
            yield
        finally:
            if leadership is not None:
                leadership.close()  # nothing starts after this; a waiting process may take over
            stop.set()
            if stop_hub is not None:
                stop_hub()
            if checkpointer is not None:
                checkpointer.stop()
            writer = getattr(app.state, "ngsi_writer", None)
            if writer is not None:
                writer.close()  # its own connection back to the pool before the engine goes
            if owned:
                rt.close()

    app = FastAPI(
        title="cityos", version=__version__, lifespan=lifespan, docs_url="/api/docs", openapi_url="/api/openapi.json"
    )
    if runtime is not None:
        app.state.runtime = runtime
        subscribe_all(runtime.bus)
    errors.install(app)
    from cityos.hub.apps import ratelimit as app_ratelimit

    app_ratelimit.install(app)  # per-app rate limits, inside the request context installed next
    middleware.install(app)
    STATIC_DIR.mkdir(parents=True, exist_ok=True)
    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> Response:
        rt: Runtime = app.state.runtime
        try:
            with rt.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception:
            return JSONResponse({"status": "error", "database": "unreachable"}, status_code=503)
        return JSONResponse({"status": "ok", "version": __version__, "database": rt.engine.dialect.name})

    @app.get("/metrics", include_in_schema=False)
    def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    from cityos.hub.ngsi import fastpath
    from cityos.routes import include_all

    if settings.ngsi_fast_path:
        fastpath.install(app)  # the NGSI-LD partial updates devices send thousands of times a second

    include_all(app)
    return app
