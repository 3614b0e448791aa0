"""Bus handlers, periodic jobs, install steps and background workers of the open platform.

The handlers queue webhook deliveries for the whitelisted topics (``webhooks.TOPICS``); the
worker sends them; the periodic job writes the rate-limit middleware's usage counters.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from cityos.cases.events import CaseReported, DeviceAlarm
from cityos.core.bus import Bus
from cityos.core.runtime import Runtime
from cityos.hub.apps import delivery, ratelimit, webhooks
from cityos.hub.events import DeviceObserved, TrafficObserved
from cityos.mobility.events import GuidanceIssued

CONSUMER = "hub.apps.webhooks"


def _case_path(session: Session, case_id: int) -> str:
    from cityos.cases.models import Case

    case = session.get(Case, case_id)
    return (case.region_path or "") if case is not None else ""


def on_case_reported(session: Session, evt: CaseReported) -> None:
    webhooks.queue_event(session, evt.topic, evt.model_dump(mode="json"), region_path=_case_path(session, evt.case_id))


def on_located(session: Session, evt: DeviceAlarm | DeviceObserved | TrafficObserved | GuidanceIssued) -> None:
    webhooks.queue_event(session, evt.topic, evt.model_dump(mode="json"))


def register(bus: Bus) -> None:
    """Subscribes this part's bus handlers (once per runtime)."""
    bus.subscribe(CaseReported, CONSUMER)(on_case_reported)
    bus.subscribe(DeviceAlarm, CONSUMER)(on_located)
    bus.subscribe(DeviceObserved, CONSUMER)(on_located)
    bus.subscribe(TrafficObserved, CONSUMER)(on_located)
    bus.subscribe(GuidanceIssued, CONSUMER)(on_located)  # a guidance message: placed by its point


def install(session: Session) -> None:
    """Nothing to install: the tables come with the migration."""


def periodic(session: Session) -> None:
    """Every minute in the server: write the counted requests and 429s of the apps."""
    ratelimit.flush_usage(session)


def start(runtime: Runtime) -> Callable[[], None] | None:
    """Starts the webhook deliverer; returns what stops it."""
    _thread, stop = delivery.worker(runtime.session_factory)
    return stop
