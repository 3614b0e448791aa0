"""HTML pages of the hub's device registry (设备管理), for device managers (device:manage):

``/hub/devices`` the list with filters, status counts and a map coloured by status, and the open
alarms; ``/hub/devices/new`` registering a device (its key is shown once); ``/hub/devices/{id}``
a device's latest readings, open alarms, entity link and key rotation. The alarm rules editor
is in ``rule_pages``, included here. Templates in ``web/templates/hub/devices/``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from cityos.core.actor import Actor
from cityos.core.errors import DomainError, FieldError, Invalid
from cityos.core.http import DbSession
from cityos.core.i18n import N_, translate
from cityos.core.settings import get_settings
from cityos.hub.devices import rule_pages, service
from cityos.hub.ingest import service as ingest
from cityos.hub.ingest.models import IngestBinding
from cityos.places.devices import service as registry
from cityos.places.devices.models import Device, DeviceStatus
from cityos.places.models import Region
from cityos.web.forms import refused
from cityos.web.shell import PageActor
from cityos.web.templating import render

router = APIRouter(include_in_schema=False)
router.include_router(rule_pages.router)

PAGE_SIZE = 50
MAP_LIMIT = 1000
MAP_CHUNK = 200
STATUS_TITLES: dict[str, str] = {
    DeviceStatus.ONLINE: N_("Connected"),
    DeviceStatus.OFFLINE: N_("Offline"),
    DeviceStatus.FAULT: N_("Fault"),
    DeviceStatus.ALARM: N_("Alarm"),
}
STATUS_COLOURS = {"online": "#12805c", "offline": "#8a8f98", "fault": "#b54708", "alarm": "#d92d20"}
BATTERY_KEYS = ("batteryLevel", "battery")
MSG_LON_LAT = N_("Give both longitude and latitude as numbers, or neither.")
MSG_REGION_ID = N_("Choose a place in your area.")


def when(moment: datetime | None) -> str:
    if moment is None:
        return ""
    return moment.astimezone(ZoneInfo(get_settings().timezone)).strftime("%m-%d %H:%M")


def battery(device: Device) -> Any:
    state = device.state or {}
    for key in BATTERY_KEYS:
        if key in state:
            value = state[key]
            return f"{round(value * 100)}%" if isinstance(value, float) and value <= 1 else value
    return None


def summary(device: Device, limit: int = 3) -> str:
    """The first few readings of the device's latest state, for the list."""
    items = [
        (k, v) for k, v in (device.state or {}).items() if k not in BATTERY_KEYS and not isinstance(v, dict | list)
    ]
    return " · ".join(f"{k} {v}" for k, v in items[:limit])


def common(**extra: Any) -> dict[str, Any]:
    return {
        "when": when,
        "status_titles": STATUS_TITLES,
        "status_colours": STATUS_COLOURS,
        "battery": battery,
        "summary": summary,
        **extra,
    }


def _require(actor: Actor) -> None:
    actor.require(service.PERMISSION)


def _device_of(row: Any) -> Device:
    device = getattr(row, "device", row)
    assert isinstance(device, Device)
    return device


def _bindings(session: Session, devices: list[Device]) -> dict[int, IngestBinding]:
    if not devices:
        return {}
    rows = session.scalars(select(IngestBinding).where(IngestBinding.device_id.in_([d.id for d in devices])))
    return {b.device_id: b for b in rows}


def _regions(session: Session, actor: Actor) -> list[Region]:
    """Places a device can be registered in: the actor's scope and up to three levels below."""
    if actor.scope_region_id is None:
        return []
    root = session.get(Region, actor.scope_region_id)
    if root is None:
        return []
    rows = session.scalars(
        select(Region).where(actor.scope_clause(Region.path), Region.depth <= root.depth + 3).order_by(Region.path)
    ).all()
    return list(rows[:500])


def _kinds(session: Session) -> list[str]:
    kinds = {p.device_kind for p in ingest.profiles(session)}
    return sorted(kinds)


@router.get("/hub/devices", response_class=HTMLResponse)
def device_list(
    request: Request,
    session: DbSession,
    actor: PageActor,
    kind: Annotated[str | None, Query()] = None,
    status: Annotated[str | None, Query()] = None,
    region_id: Annotated[str | None, Query()] = None,
    page: Annotated[int, Query(ge=1)] = 1,
) -> HTMLResponse:
    _require(actor)
    kind = kind or None
    status = status if status in STATUS_TITLES else None
    region = int(region_id) if region_id and region_id.isdigit() else None
    if region is not None:
        chosen = session.get(Region, region)
        region = region if chosen is not None and actor.covers(chosen) else None  # not a place of yours: all
    rows, total = ingest.list_devices(
        session, actor, kind=kind, status=status, region_id=region, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE
    )
    devices = [_device_of(r) for r in rows]
    on_map: list[Any] = []
    while len(on_map) < MAP_LIMIT:  # the list answers at most 200 a call
        chunk, _ = ingest.list_devices(
            session, actor, kind=kind, status=status, region_id=region, offset=len(on_map), limit=MAP_CHUNK
        )
        on_map.extend(chunk)
        if len(chunk) < MAP_CHUNK:
            break
    points = [
        {
            "id": d.id,
            "code": d.code,
            "name": d.name,
            "kind": d.kind,
            "status": d.status,
            "status_title": translate(STATUS_TITLES.get(d.status, d.status)),
            "lon": d.lon,
            "lat": d.lat,
        }
        for d in (_device_of(r) for r in on_map)
        if d.lon is not None and d.lat is not None
    ]
    counts: dict[str, int] = {}
    for by_status in registry.status_counts(session, region_path=actor.scope_path).values():
        for s, n in by_status.items():
            counts[s] = counts.get(s, 0) + n
    alarms, alarm_total = service.open_alarms(session, actor, limit=10)
    return render(
        request,
        "hub/devices/list.html",
        common(
            devices=devices,
            bindings=_bindings(session, devices),
            total=total,
            page=page,
            pages=max(1, (total + PAGE_SIZE - 1) // PAGE_SIZE),
            filters={"kind": kind or "", "status": status or "", "region_id": str(region or "")},
            kinds=_kinds(session),
            regions=_regions(session, actor),
            counts=counts,
            points=points,
            colours=STATUS_COLOURS,
            alarms=alarms,
            alarm_total=alarm_total,
        ),
    )


def _new_page(
    request: Request,
    session: Session,
    actor: Actor,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    created: Device | None = None,
    key: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "hub/devices/new.html",
        common(
            values=values or {},
            errors=errors or {},
            profiles=ingest.profiles(session),
            regions=_regions(session, actor),
            created=created,
            key=key,
        ),
        status_code=status_code,
    )


@router.get("/hub/devices/new", response_class=HTMLResponse)
def new_device(request: Request, session: DbSession, actor: PageActor) -> HTMLResponse:
    _require(actor)
    return _new_page(request, session, actor)


def _coordinate(raw: dict[str, str], name: str) -> float | None | str:
    text = raw.get(name, "").strip()
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        return "bad"


async def posted(request: Request) -> dict[str, str]:
    form = await request.form()
    return {k: str(v) for k, v in form.items() if isinstance(v, str)}


@router.post("/hub/devices/new", response_class=HTMLResponse)
async def register_device(request: Request, session: DbSession, actor: PageActor) -> Response:
    """Registers the device and shows its key, this once (it is kept only as a hash)."""
    _require(actor)
    raw = await posted(request)
    lon, lat = _coordinate(raw, "lon"), _coordinate(raw, "lat")
    region = raw.get("region_id", "")
    try:
        bad: list[FieldError] = []
        if lon == "bad" or lat == "bad" or (lon is None) != (lat is None):
            bad.append(FieldError("lon", MSG_LON_LAT))
        if not region.isdigit():
            bad.append(FieldError("region_id", MSG_REGION_ID))
        if bad:
            raise Invalid(details=bad)
        assert not isinstance(lon, str)
        assert not isinstance(lat, str)
        device, key = ingest.register_device(
            session,
            actor,
            code=raw.get("code", "").strip(),
            kind=raw.get("kind", "").strip(),
            name=raw.get("name", ""),
            region_id=int(region),
            profile_code=raw.get("profile_code", ""),
            lon=lon,
            lat=lat,
        )
    except DomainError as exc:
        errors = refused(request, session, actor, exc)
        return _new_page(request, session, actor, values=raw, errors=errors, status_code=exc.status_code)
    return _new_page(request, session, actor, created=device, key=key, status_code=201)


def _detail_page(
    request: Request, session: Session, actor: Actor, device_id: int, *, key: str | None = None
) -> HTMLResponse:
    _require(actor)
    device = registry.get(session, actor, device_id)
    binding = _bindings(session, [device]).get(device.id)
    alarms, _ = service.open_alarms(session, actor, device_id=device.id)
    region = session.get(Region, device.region_id)
    return render(
        request,
        "hub/devices/device.html",
        common(device=device, binding=binding, alarms=alarms, region=region, key=key),
    )


@router.get("/hub/devices/{device_id}", response_class=HTMLResponse)
def device_detail(device_id: int, request: Request, session: DbSession, actor: PageActor) -> HTMLResponse:
    return _detail_page(request, session, actor, device_id)


@router.post("/hub/devices/{device_id}/key", response_class=HTMLResponse)
def rotate_key(device_id: int, request: Request, session: DbSession, actor: PageActor) -> HTMLResponse:
    """A new key for the device (the old one stops working), shown this once."""
    _require(actor)
    key = ingest.rotate_key(session, actor, device_id=device_id)
    return _detail_page(request, session, actor, device_id, key=key)
