"""The property office's console (物业管理台) at /property: tabs for bills and collection, parking,
parcel lockers, garbage sorting, devices and repairs of one estate. Included by ``pages.router``."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from cityos.core.actor import Actor
from cityos.core.db import utcnow
from cityos.core.errors import DomainError, FieldError, Invalid
from cityos.core.http import DbSession
from cityos.core.i18n import N_
from cityos.core.pagination import PageParams
from cityos.people.residences import addresses
from cityos.places.models import Region
from cityos.web.forms import refused
from cityos.web.shell import PageActor
from cityos.web.templating import render

from . import billing, facilities, garbage, lockers, parking, payments
from .estates import (
    MANAGE,
    MSG_NO_ESTATE,
    effective_tariff,
    estates_in_scope,
    local,
    managed_estate,
    parse_period,
    previous_period,
    rooms_of_estate,
    set_tariff,
    tariff_of,
)
from .gateways import available_gateways
from .models import BILL_KIND_TITLES, PAYMENT_STATUS_TITLES, ParcelStatus

router = APIRouter(include_in_schema=False)

TABS: tuple[tuple[str, str], ...] = (
    ("", N_("Bills and collection")),
    ("parking", N_("Parking")),
    ("lockers", N_("Parcel lockers")),
    ("garbage", N_("Garbage sorting")),
    ("devices", N_("Devices and faults")),
    ("repairs", N_("Repairs")),
)
PARCEL_STATUS = {
    ParcelStatus.WAITING: N_("Waiting for pickup"),
    ParcelStatus.PICKED_UP: N_("Picked up"),
    ParcelStatus.RETURNED: N_("Returned to sender"),
}
VISIT_STATUS = {"inside": N_("Inside"), "left": N_("Left"), "unclosed": N_("No exit seen")}
MSG_YUAN = N_("Give an amount in yuan with at most 2 decimals.")
MSG_NUMBER = N_("Give a number.")
# Tariff form fields: (name, label, in yuan?)
TARIFF_FORM: tuple[tuple[str, str, bool], ...] = (
    ("property_fee_fen_per_m2", N_("Property fee, yuan per m² per month"), True),
    ("default_area_m2", N_("Floor area of rooms without one, m²"), False),
    ("parking_monthly_fen", N_("Parking space, yuan per month"), True),
    ("water_fen_per_m3", N_("Water, yuan per m³"), True),
    ("power_fen_per_kwh", N_("Electricity, yuan per kWh"), True),
    ("visitor_free_minutes", N_("Visitors park free for, minutes"), False),
    ("visitor_hourly_fen", N_("Visitors then pay, yuan per hour"), True),
    ("visitor_daily_cap_fen", N_("At most, yuan per day"), True),
    ("due_days", N_("Days to pay after the month"), False),
)


def chosen_estate(request: Request, session: Session, actor: Actor, estate: str) -> Region:
    """The estate asked for, or the one the region switcher points at (or lies in), or the first."""
    actor.require(MANAGE)
    if estate.isdigit():
        return managed_estate(session, actor, int(estate))
    choices = estates_in_scope(session, actor)
    current = getattr(request.state, "current_region", None)
    if current is not None:
        for region in choices:
            if region.path.startswith(current.path) or current.path.startswith(region.path):
                return region
    if not choices:
        raise Invalid(MSG_NO_ESTATE)
    return choices[0]


def _page(
    request: Request,
    session: Session,
    actor: Actor,
    estate: Region,
    tab: str,
    context: dict[str, Any],
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        request,
        f"community/property/console_{tab or 'bills'}.html",
        {
            "estate": estate,
            "estates": estates_in_scope(session, actor),
            "tab": tab,
            "tabs": TABS,
            "yuan": billing.yuan,
            "local": local,
            "kind_titles": facilities.KIND_TITLES,
            "status_titles": facilities.STATUS_TITLES,
            "payment_status": PAYMENT_STATUS_TITLES,
            "errors": {},
            "values": {},
            **context,
        },
        status_code=status_code,
    )


def _rooms(session: Session, estate: Region) -> list[tuple[int, str]]:
    rooms = rooms_of_estate(session, estate)
    names = addresses(session, rooms, within=estate.path)
    return [(r.id, names.get(r.id, r.name)) for r in rooms]


async def _posted(request: Request) -> dict[str, str]:
    form = await request.form()
    return {k: str(v) for k, v in form.items() if isinstance(v, str)}


# --- bills and collection -----------------------------------------------------------------------------------------


def _bills_tab(
    request: Request,
    session: Session,
    actor: Actor,
    estate: Region,
    *,
    period: str | None = None,
    run: billing.BillingRun | None = None,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    period = period or previous_period(utcnow())
    tariff = tariff_of(session, estate) or effective_tariff(session, estate)
    shown = {
        name: (billing.yuan(getattr(tariff, name)).replace(",", "") if in_yuan else f"{getattr(tariff, name):g}")
        for name, _, in_yuan in TARIFF_FORM
    }
    unpaid, _ = billing.list_bills(
        session, actor, PageParams(size=50), estate_id=estate.id, period=period, status="unpaid"
    )
    rooms = list(session.scalars(select(Region).where(Region.id.in_({b.room_id for b in unpaid})))) if unpaid else []
    return _page(
        request,
        session,
        actor,
        estate,
        "",
        {
            "period": period,
            "tariff": tariff,
            "tariff_stored": tariff_of(session, estate) is not None,
            "tariff_form": TARIFF_FORM,
            "tariff_values": {**shown, "payment_gateway": tariff.payment_gateway, **(values or {})},
            "gateways": available_gateways(),
            "bill_kinds": BILL_KIND_TITLES,
            "collection": billing.collection(session, actor, estate_id=estate.id, period=period),
            "overdue": billing.overdue_count(session, region_path=estate.path),
            "unpaid": unpaid,
            "room_names": addresses(session, rooms, within=estate.path) if rooms else {},
            "payments": payments.payments_of(session, actor, estate_id=estate.id, limit=20),
            "run": run,
            "errors": errors or {},
        },
        status_code,
    )


@router.get("/property", response_class=HTMLResponse)
def bills_tab(
    request: Request,
    session: DbSession,
    actor: PageActor,
    estate: Annotated[str, Query(max_length=12)] = "",
    period: Annotated[str, Query(max_length=7)] = "",
) -> Response:
    """Collection per building for a month, the tariff, the billing run, unpaid bills, payments."""
    if not actor.can(MANAGE) and actor.can("access:read"):
        return RedirectResponse("/property/access", status_code=303)
    region = chosen_estate(request, session, actor, estate)
    if period:
        try:
            parse_period(period)
        except Invalid:
            period = ""
    return _bills_tab(request, session, actor, region, period=period or None)


def _yuan_to_fen(raw: str, field: str, errors: list[FieldError]) -> int | None:
    try:
        value = Decimal(raw.strip()) * 100
    except InvalidOperation:
        errors.append(FieldError(field, MSG_YUAN))
        return None
    if not value.is_finite() or value != value.to_integral_value():
        errors.append(FieldError(field, MSG_YUAN))
        return None
    return int(value)


@router.post("/property/tariff", response_class=HTMLResponse)
async def tariff_submit(request: Request, session: DbSession, actor: PageActor) -> Response:
    raw = await _posted(request)
    region = managed_estate(session, actor, int(raw["estate"]) if raw.get("estate", "").isdigit() else 0)
    errors: list[FieldError] = []
    values: dict[str, Any] = {}
    for name, _, in_yuan in TARIFF_FORM:
        text = raw.get(name, "").strip()
        if not text:
            continue
        if in_yuan:
            fen = _yuan_to_fen(text, name, errors)
            if fen is not None:
                values[name] = fen
            continue
        try:
            number = float(text)
        except ValueError:
            errors.append(FieldError(name, MSG_NUMBER))
            continue
        values[name] = int(number) if number.is_integer() and name != "default_area_m2" else number
    if raw.get("payment_gateway"):
        values["payment_gateway"] = raw["payment_gateway"]
    try:
        if errors:
            raise Invalid(details=errors)
        set_tariff(session, actor, estate_id=region.id, values=values)
    except DomainError as exc:
        shown = refused(request, session, actor, exc)
        region = managed_estate(session, actor, region.id)
        kept = {k: v for k, v in raw.items() if k != "estate"}
        return _bills_tab(request, session, actor, region, errors=shown, values=kept, status_code=exc.status_code)
    return RedirectResponse(f"/property?estate={region.id}&saved=1", status_code=303)


@router.post("/property/billing-runs", response_class=HTMLResponse)
async def billing_submit(request: Request, session: DbSession, actor: PageActor) -> Response:
    form = await request.form()
    estate_raw = str(form.get("estate", ""))
    region = managed_estate(session, actor, int(estate_raw) if estate_raw.isdigit() else 0)
    period = str(form.get("period", "")).strip()
    kinds = [str(k) for k in form.getlist("kinds")]
    try:
        run = billing.run_billing(session, actor, estate_id=region.id, period=period, kinds=kinds)
    except DomainError as exc:
        shown = refused(request, session, actor, exc)
        region = managed_estate(session, actor, region.id)
        return _bills_tab(request, session, actor, region, errors=shown, status_code=exc.status_code)
    return _bills_tab(request, session, actor, region, period=period, run=run)


# --- parking ------------------------------------------------------------------------------------------------------


def _parking_tab(
    request: Request,
    session: Session,
    actor: Actor,
    estate: Region,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    rooms = _rooms(session, estate)
    return _page(
        request,
        session,
        actor,
        estate,
        "parking",
        {
            "view": parking.overview(session, actor, estate_id=estate.id),
            "vehicles": parking.vehicles(session, actor, estate_id=estate.id),
            "rooms": rooms,
            "room_names": dict(rooms),
            "tariff": effective_tariff(session, estate),
            "visit_status": VISIT_STATUS,
            "errors": errors or {},
            "values": values or {},
        },
        status_code,
    )


@router.get("/property/parking", response_class=HTMLResponse)
def parking_tab(
    request: Request, session: DbSession, actor: PageActor, estate: Annotated[str, Query(max_length=12)] = ""
) -> HTMLResponse:
    """Spaces and who uses them, cars inside now, today's visitor fees, registered plates."""
    return _parking_tab(request, session, actor, chosen_estate(request, session, actor, estate))


def _int(raw: dict[str, str], name: str) -> int:
    value = raw.get(name, "")
    return int(value) if value.isdigit() else 0


@router.post("/property/vehicles", response_class=HTMLResponse)
async def vehicle_submit(request: Request, session: DbSession, actor: PageActor) -> Response:
    raw = await _posted(request)
    region = managed_estate(session, actor, _int(raw, "estate"))
    try:
        parking.register_vehicle(
            session, actor, estate_id=region.id, room_id=_int(raw, "room_id"), plate=raw.get("plate", "")
        )
    except DomainError as exc:
        shown = refused(request, session, actor, exc)
        region = managed_estate(session, actor, region.id)
        return _parking_tab(request, session, actor, region, errors=shown, values=raw, status_code=exc.status_code)
    return RedirectResponse(f"/property/parking?estate={region.id}", status_code=303)


@router.post("/property/vehicles/{vehicle_id}/delete")
def vehicle_delete(vehicle_id: int, session: DbSession, actor: PageActor, estate: Annotated[int, Form()]) -> Response:
    parking.remove_vehicle(session, actor, vehicle_id=vehicle_id)
    return RedirectResponse(f"/property/parking?estate={estate}", status_code=303)


@router.post("/property/leases", response_class=HTMLResponse)
async def lease_submit(request: Request, session: DbSession, actor: PageActor) -> Response:
    raw = await _posted(request)
    region = managed_estate(session, actor, _int(raw, "estate"))
    try:
        parking.lease_space(
            session, actor, estate_id=region.id, space_id=_int(raw, "space_id"), room_id=_int(raw, "room_id")
        )
    except DomainError as exc:
        shown = refused(request, session, actor, exc)
        region = managed_estate(session, actor, region.id)
        return _parking_tab(request, session, actor, region, errors=shown, values=raw, status_code=exc.status_code)
    return RedirectResponse(f"/property/parking?estate={region.id}", status_code=303)


@router.post("/property/leases/{lease_id}/end")
def lease_end(lease_id: int, session: DbSession, actor: PageActor, estate: Annotated[int, Form()]) -> Response:
    parking.end_lease(session, actor, lease_id=lease_id)
    return RedirectResponse(f"/property/parking?estate={estate}", status_code=303)


# --- lockers ------------------------------------------------------------------------------------------------------


@router.get("/property/lockers", response_class=HTMLResponse)
def lockers_tab(
    request: Request, session: DbSession, actor: PageActor, estate: Annotated[str, Query(max_length=12)] = ""
) -> HTMLResponse:
    """Each locker's compartments in use, the parcels waiting (overdue ones marked), returns."""
    region = chosen_estate(request, session, actor, estate)
    boxes = facilities.estate_devices(session, actor, estate_id=region.id, kinds=(lockers.LOCKER,))
    rows = lockers.parcels(session, actor, estate_id=region.id)
    waiting = [p for p in rows if p.status == ParcelStatus.WAITING]
    used = {b.id: sum(1 for p in waiting if p.locker_id == b.id) for b in boxes}
    rooms = list(session.scalars(select(Region).where(Region.id.in_({p.room_id for p in rows if p.room_id}))))
    return _page(
        request,
        session,
        actor,
        region,
        "lockers",
        {
            "lockers": boxes,
            "used": used,
            "size": {b.id: lockers.compartments_of(b) for b in boxes},
            "locker_names": {b.id: b.name for b in boxes},
            "waiting": waiting,
            "done": [p for p in rows if p.status != ParcelStatus.WAITING][:50],
            "overdue_before": utcnow() - lockers.REMIND_AFTER,
            "room_names": addresses(session, rooms, within=region.path) if rooms else {},
            "parcel_status": PARCEL_STATUS,
        },
    )


# --- garbage ------------------------------------------------------------------------------------------------------


def _garbage_tab(
    request: Request,
    session: Session,
    actor: Actor,
    estate: Region,
    *,
    month: str | None = None,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    saved: bool = False,
    status_code: int = 200,
) -> HTMLResponse:
    return _page(
        request,
        session,
        actor,
        estate,
        "garbage",
        {
            "view": garbage.overview(session, actor, estate_id=estate.id, month=month),
            "rooms": _rooms(session, estate),
            "streams": garbage.STREAM_TITLES,
            "full": garbage.FULL,
            "errors": errors or {},
            "values": values or {},
            "saved": saved,
        },
        status_code,
    )


@router.get("/property/garbage", response_class=HTMLResponse)
def garbage_tab(
    request: Request,
    session: DbSession,
    actor: PageActor,
    estate: Annotated[str, Query(max_length=12)] = "",
    month: Annotated[str, Query(max_length=7)] = "",
) -> HTMLResponse:
    """Bins and how full they are, the month's ranking of buildings, the best households."""
    region = chosen_estate(request, session, actor, estate)
    if month:
        try:
            parse_period(month)
        except Invalid:
            month = ""
    return _garbage_tab(request, session, actor, region, month=month or None)


@router.post("/property/sorting-checks", response_class=HTMLResponse)
async def sorting_submit(request: Request, session: DbSession, actor: PageActor) -> Response:
    raw = await _posted(request)
    region = managed_estate(session, actor, _int(raw, "estate"))
    correct: Any = {"1": True, "0": False}.get(raw.get("correct", ""), None)
    try:
        garbage.inspect(session, actor, estate_id=region.id, room_id=_int(raw, "room_id"), correct=correct)
    except DomainError as exc:
        shown = refused(request, session, actor, exc)
        region = managed_estate(session, actor, region.id)
        return _garbage_tab(request, session, actor, region, errors=shown, values=raw, status_code=exc.status_code)
    return _garbage_tab(request, session, actor, region, saved=True)


# --- devices and repairs ------------------------------------------------------------------------------------------


def _devices_tab(
    request: Request,
    session: Session,
    actor: Actor,
    estate: Region,
    *,
    made: Any = None,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    places = [(estate.id, estate.name)] + [
        (r.id, r.name)
        for r in session.scalars(select(Region).where(Region.parent_id == estate.id).order_by(Region.name))
    ]
    return _page(
        request,
        session,
        actor,
        estate,
        "devices",
        {
            "devices": facilities.estate_devices(session, actor, estate_id=estate.id),
            "faults": facilities.open_faults(session, actor, estate_id=estate.id),
            "kinds": facilities.KINDS,
            "streams": garbage.STREAM_TITLES,
            "places": places,
            "rooms": _rooms(session, estate),
            "made": made,
            "errors": errors or {},
            "values": values or {},
        },
        status_code,
    )


@router.get("/property/devices", response_class=HTMLResponse)
def devices_tab(
    request: Request, session: DbSession, actor: PageActor, estate: Annotated[str, Query(max_length=12)] = ""
) -> HTMLResponse:
    """Every device of the estate with its state; open faults and the repair cases they opened."""
    return _devices_tab(request, session, actor, chosen_estate(request, session, actor, estate))


@router.post("/property/devices", response_class=HTMLResponse)
async def device_submit(request: Request, session: DbSession, actor: PageActor) -> Response:
    raw = await _posted(request)
    region = managed_estate(session, actor, _int(raw, "estate"))
    kind = raw.get("kind", "")
    place = raw.get("room_id") if kind in ("meter_water", "meter_power") else raw.get("region_id")
    compartments = raw.get("compartments", "")
    try:
        made = facilities.add_device(
            session,
            actor,
            estate_id=region.id,
            kind=kind,
            code=raw.get("code", "").strip(),
            name=raw.get("name", ""),
            region_id=int(place) if place and place.isdigit() else None,
            compartments=int(compartments) if compartments.isdigit() else None,
            stream=raw.get("stream") or None,
            visitor=raw.get("visitor") == "1",
        )
    except DomainError as exc:
        shown = refused(request, session, actor, exc)
        region = managed_estate(session, actor, region.id)
        return _devices_tab(request, session, actor, region, errors=shown, values=raw, status_code=exc.status_code)
    return _devices_tab(request, session, actor, region, made=made)


@router.get("/property/repairs", response_class=HTMLResponse)
def repairs_tab(
    request: Request, session: DbSession, actor: PageActor, estate: Annotated[str, Query(max_length=12)] = ""
) -> HTMLResponse:
    """The estate's open property-repair cases, from residents and from devices' faults."""
    region = chosen_estate(request, session, actor, estate)
    return _page(
        request,
        session,
        actor,
        region,
        "repairs",
        {"repairs": facilities.open_repairs(session, actor, estate_id=region.id)},
    )
