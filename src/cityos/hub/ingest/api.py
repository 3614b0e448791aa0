"""JSON routes of hub.ingest.

Under /api/v1/hub (people, device:manage within their area): register a device (its key is
answered once), list and read devices, rotate a key, the profiles, the ingest figures.

Under /device-api/v1/hub (devices, with their key in ``X-Device-Key``): ``POST observations``
takes one message ``{"mid", "ts", "values"}`` or a batch ``{"messages": [...]}`` of up to 1,000.
The answer lists every message as accepted, duplicate or rejected (with the reason and the
field errors): 200 when none was rejected, 207 when some were (the good ones are stored), 422
when all were; 401 without a known key, 404 for a key of a device that is not in the hub, 503
with ``Retry-After`` when the ingest writers are all busy."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, Query
from fastapi.responses import JSONResponse

from cityos.core.db import WRITE_INTENT, utcnow
from cityos.core.errors import FieldError, Invalid, NotFound, Unauthorized
from cityos.core.http import DbSession
from cityos.core.i18n import N_, translate
from cityos.core.settings import get_settings
from cityos.hub.ingest import pipeline, service
from cityos.hub.ingest.schemas import (
    DeviceCreate,
    DeviceCreated,
    DevicePage,
    DeviceRead,
    FieldProblem,
    IngestResult,
    KeyRead,
    MessageResult,
    ProfileRead,
    StatsRead,
)
from cityos.identity.deps import CurrentActor
from cityos.places.devices import service as devices

router = APIRouter()
people = APIRouter(prefix="/api/v1/hub", tags=["hub"])
device_router = APIRouter(prefix="/device-api/v1/hub", tags=["hub-devices"])

DeviceKey = Annotated[str | None, Header(alias="X-Device-Key", max_length=200)]
MAX_BATCH = 1000
HTTP_SLOTS = 8  # batches written at once over HTTP; the next one waits briefly, then gets a 503
SLOT_WAIT_S = 2.0
RETRY_AFTER_S = 2

MSG_KEY = N_("This device key is not known.")
MSG_BATCH = N_("Send 1 to {max} messages in one batch.")
MSG_BUSY = N_("Ingest is busy. Retry after a few seconds.")
MSG_ALL_REJECTED = N_("No message was accepted.")


class Gate:
    """The HTTP ingest writers: a bounded number of batches at once (back-pressure, not a queue)."""

    def __init__(self, slots: int) -> None:
        self.slots = threading.BoundedSemaphore(slots)
        self.busy = 0
        self.refused = 0

    def enter(self, wait: float) -> bool:
        if not self.slots.acquire(timeout=wait):
            self.refused += 1
            return False
        self.busy += 1
        return True

    def leave(self) -> None:
        self.busy -= 1
        self.slots.release()


gate = Gate(HTTP_SLOTS)


def _prefix() -> str:
    return get_settings().mqtt_topic_prefix


# --- people --------------------------------------------------------------------------------------


@people.post("/devices", response_model=DeviceCreated, status_code=201)
def register_device(body: DeviceCreate, session: DbSession, actor: CurrentActor) -> DeviceCreated:
    """Registers a device with its profile; the key is in this answer only."""
    device, key = service.register_device(session, actor, **body.model_dump())
    row = service.get_device(session, actor, device_id=device.id)
    return DeviceCreated(**DeviceRead.of(row, _prefix()).model_dump(), key=key)


@people.get("/devices", response_model=DevicePage)
def list_devices(
    session: DbSession,
    actor: CurrentActor,
    kind: Annotated[str | None, Query(max_length=32)] = None,
    status: Annotated[str | None, Query(max_length=16)] = None,
    region_id: Annotated[int | None, Query(ge=1)] = None,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=service.MAX_PAGE)] = 50,
) -> DevicePage:
    rows, total = service.list_devices(
        session, actor, kind=kind, status=status, region_id=region_id, offset=offset, limit=limit
    )
    return DevicePage(items=[DeviceRead.of(r, _prefix()) for r in rows], total=total, offset=offset, limit=limit)


@people.get("/devices/{hub_device_id}", response_model=DeviceRead)
def get_device(hub_device_id: int, session: DbSession, actor: CurrentActor) -> DeviceRead:
    return DeviceRead.of(service.get_device(session, actor, device_id=hub_device_id), _prefix())


@people.post("/devices/{hub_device_id}/key", response_model=KeyRead)
def rotate_key(hub_device_id: int, session: DbSession, actor: CurrentActor) -> KeyRead:
    """A new device key (shown once); the old one stops working."""
    return KeyRead(device_id=hub_device_id, key=service.rotate_key(session, actor, device_id=hub_device_id))


@people.get("/profiles", response_model=list[ProfileRead])
def list_profiles(session: DbSession, actor: CurrentActor) -> list[ProfileRead]:
    actor.require(service.PERMISSION)
    return [
        ProfileRead(
            code=p.code,
            name=translate(p.name),
            device_kind=p.device_kind,
            entity_type=p.entity_type,
            mapping=p.mapping,
            builtin=p.builtin,
        )
        for p in service.profiles(session)
    ]


def translate_field(stored: dict[str, Any]) -> str:
    return translate(str(stored.get("message", "")), **(stored.get("params") or {}))


@people.get("/ingest/stats", response_model=StatsRead)
def ingest_stats(
    session: DbSession, actor: CurrentActor, since: Annotated[datetime | None, Query()] = None
) -> StatsRead:
    """Accepted, duplicate and rejected messages since ``since`` (default: the last hour)."""
    actor.require(service.PERMISSION)
    if since is not None and since.tzinfo is None:
        raise Invalid(details=[FieldError("since", N_("Give the time with its offset, like 2026-12-01T08:00:00Z."))])
    return StatsRead.of(service.stats(session, since=since or utcnow() - timedelta(hours=1)), translate_field)


# --- devices -------------------------------------------------------------------------------------


def _messages(body: Any) -> tuple[list[Any], bool]:
    if isinstance(body, dict) and "messages" in body:
        items = body["messages"]
        if not isinstance(items, list) or not (1 <= len(items) <= MAX_BATCH):
            raise Invalid(details=[FieldError("messages", MSG_BATCH, {"max": MAX_BATCH})])
        return items, True
    return [body], False


def _result(index: int, outcome: pipeline.Outcome) -> MessageResult:
    return MessageResult(
        index=index,
        mid=outcome.mid,
        status=outcome.status,
        reason=outcome.reason,
        errors=[FieldProblem(field=e.field, message=translate(e.message, **e.params)) for e in outcome.errors],
    )


@device_router.post("/observations", response_model=IngestResult, responses={207: {}, 422: {}, 503: {}})
def observations(
    session: DbSession, body: Annotated[Any, Body()] = None, x_device_key: DeviceKey = None
) -> JSONResponse:
    """A device's readings (one message or a batch); see the module's docstring for the answers."""
    session.connection(execution_options={WRITE_INTENT: True})  # it will write (SQLite: BEGIN IMMEDIATE)
    try:
        device = devices.by_key(session, x_device_key)
    except NotFound:
        raise Unauthorized(MSG_KEY) from None
    if service.binding_for(session, device.id) is None:
        raise NotFound(pipeline.MSG_DEVICE)
    items, batched = _messages(body)
    if not gate.enter(SLOT_WAIT_S):
        return JSONResponse(
            {"error": {"code": "busy", "message": translate(MSG_BUSY), "details": []}},
            status_code=503,
            headers={"Retry-After": str(RETRY_AFTER_S)},
        )
    try:
        inbound = [
            pipeline.Inbound(
                channel="http",
                device_id=device.id,
                body=item,
                device_code=device.code,
                prefix=f"messages[{i}]." if batched else "",
            )
            for i, item in enumerate(items)
        ]
        outcomes = pipeline.process(session, inbound)
    finally:
        gate.leave()
    results = [_result(i, o) for i, o in enumerate(outcomes)]
    counts = {s: sum(1 for o in outcomes if o.status == s) for s in ("accepted", "duplicate", "rejected")}
    answer: dict[str, Any] = IngestResult(
        accepted=counts["accepted"], duplicates=counts["duplicate"], rejected=counts["rejected"], results=results
    ).model_dump(mode="json")
    if counts["rejected"] == 0:
        return JSONResponse(answer, status_code=200)
    if counts["rejected"] < len(outcomes):
        return JSONResponse(answer, status_code=207)
    details = [e.model_dump() | {"type": "invalid"} for r in results for e in r.errors]
    answer["error"] = {"code": "invalid", "message": translate(MSG_ALL_REJECTED), "details": details}
    return JSONResponse(answer, status_code=422)


router.include_router(people)
router.include_router(device_router)
