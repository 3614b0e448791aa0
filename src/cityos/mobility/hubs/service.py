"""Transport hubs: create, change, delete (traffic:manage, in the actor's area), list and read
(traffic:read, data-scoped by the hub's region). The passenger flow of a hub is in ``flow.py``."""

from __future__ import annotations

import math
import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cityos.core.actor import Actor
from cityos.core.errors import Conflict, FieldError, Invalid, NotFound
from cityos.core.i18n import N_
from cityos.places import service as places
from cityos.places.models import Region

from .models import HUB_KINDS, TransportHub

READ = "traffic:read"
MANAGE = "traffic:manage"
CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
RADIUS = (30.0, 3000.0)
MAX_CAMERAS = 50

MSG_CODE = N_("Use 1 to 64 letters, digits, '-', '_' or '.', starting with a letter or digit.")
MSG_CODE_TAKEN = N_("A hub with this code exists.")
MSG_NAME = N_("Give a name of 1 to 200 characters.")
MSG_KIND = N_("Choose one of: %(choices)s.")
MSG_LON = N_("Give a longitude between -180 and 180.")
MSG_LAT = N_("Give a latitude between -90 and 90.")
MSG_RADIUS = N_("Give a radius between %(low)s and %(high)s metres.")
MSG_CAMERAS = N_("Give at most %(n)s camera ids of 1 to 64 characters each.")
MSG_REGION = N_("Choose a place in your area.")
MSG_OUTSIDE = N_("The point is in no place of your area.")
MSG_NO_HUB = N_("No hub with this code.")

FIELDS = ("code", "name", "kind", "lon", "lat", "radius_m", "camera_ids", "region_id")


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def _clean(values: dict[str, Any], errors: list[FieldError]) -> dict[str, Any]:
    """The given fields checked and normalised; a problem adds a field error."""
    out: dict[str, Any] = {}
    if "code" in values:
        code = values["code"]
        if not isinstance(code, str) or not CODE_RE.match(code.strip()):
            errors.append(FieldError("code", MSG_CODE))
        else:
            out["code"] = code.strip()
    if "name" in values:
        name = values["name"]
        if not isinstance(name, str) or not name.strip() or len(name.strip()) > 200:
            errors.append(FieldError("name", MSG_NAME))
        else:
            out["name"] = name.strip()
    if "kind" in values:
        if values["kind"] not in HUB_KINDS:
            errors.append(FieldError("kind", MSG_KIND, {"choices": ", ".join(HUB_KINDS)}))
        else:
            out["kind"] = values["kind"]
    for key, bound, msg in (("lon", 180.0, MSG_LON), ("lat", 90.0, MSG_LAT)):
        if key in values:
            n = _number(values[key])
            if n is None or abs(n) > bound:
                errors.append(FieldError(key, msg))
            else:
                out[key] = n
    if "radius_m" in values:
        r = _number(values["radius_m"])
        if r is None or not RADIUS[0] <= r <= RADIUS[1]:
            errors.append(FieldError("radius_m", MSG_RADIUS, {"low": int(RADIUS[0]), "high": int(RADIUS[1])}))
        else:
            out["radius_m"] = r
    if "camera_ids" in values:
        cams = values["camera_ids"]
        if cams is None:
            cams = []
        if (
            not isinstance(cams, list)
            or len(cams) > MAX_CAMERAS
            or not all(isinstance(c, str) and 0 < len(c.strip()) <= 64 for c in cams)
        ):
            errors.append(FieldError("camera_ids", MSG_CAMERAS, {"n": MAX_CAMERAS}))
        else:
            out["camera_ids"] = sorted({c.strip() for c in cams})
    if "region_id" in values and values["region_id"] is not None:
        rid = values["region_id"]
        if isinstance(rid, bool) or not isinstance(rid, int):
            errors.append(FieldError("region_id", MSG_REGION))
        else:
            out["region_id"] = rid
    return out


def _place(session: Session, actor: Actor, hub: TransportHub, region_id: int | None) -> None:
    """The hub's region: the one chosen, else the deepest of the actor's area at its point."""
    region: Region | None
    if region_id is not None:
        region = session.get(Region, region_id)
        if region is None or not actor.covers(region):
            raise Invalid(details=[FieldError("region_id", MSG_REGION)])
    else:
        try:
            region = places.locate(session, actor, lon=hub.lon, lat=hub.lat)
        except NotFound:
            raise Invalid(details=[FieldError("lon", MSG_OUTSIDE)]) from None
    actor.require(MANAGE, region=region)
    hub.region_id = region.id
    hub.region_path = region.path


def create_hub(session: Session, actor: Actor, **values: Any) -> TransportHub:
    actor.require(MANAGE)
    errors: list[FieldError] = []
    given = {k: values.get(k) for k in FIELDS}
    clean = _clean(given, errors)
    if errors:
        raise Invalid(details=errors)
    if session.scalar(select(TransportHub.id).where(TransportHub.code == clean["code"])) is not None:
        raise Conflict(details=[FieldError("code", MSG_CODE_TAKEN)])
    hub = TransportHub(
        code=clean["code"],
        name=clean["name"],
        kind=clean["kind"],
        lon=clean["lon"],
        lat=clean["lat"],
        radius_m=clean["radius_m"],
        camera_ids=clean.get("camera_ids", []),
        region_path="/",
    )
    _place(session, actor, hub, clean.get("region_id"))
    session.add(hub)
    session.flush()
    return hub


def update_hub(session: Session, actor: Actor, *, code: str, **changes: Any) -> TransportHub:
    """Changes the fields given (``code`` stays); moving the hub places it again."""
    hub = get_hub(session, actor, code)
    actor.require(MANAGE, region=hub.region_path)
    errors: list[FieldError] = []
    clean = _clean({k: v for k, v in changes.items() if k in FIELDS and k != "code"}, errors)
    if errors:
        raise Invalid(details=errors)
    moved = any(k in clean and clean[k] != getattr(hub, k) for k in ("lon", "lat")) or "region_id" in clean
    for key, value in clean.items():
        if key != "region_id":
            setattr(hub, key, value)
    if moved:
        _place(session, actor, hub, clean.get("region_id"))
    session.flush()
    return hub


def delete_hub(session: Session, actor: Actor, *, code: str) -> None:
    hub = get_hub(session, actor, code)
    actor.require(MANAGE, region=hub.region_path)
    session.delete(hub)
    session.flush()


def list_hubs(session: Session, actor: Actor) -> list[TransportHub]:
    actor.require(READ)
    return list(
        session.scalars(
            select(TransportHub).where(actor.scope_clause(TransportHub.region_path)).order_by(TransportHub.code)
        )
    )


def get_hub(session: Session, actor: Actor, code: str) -> TransportHub:
    """The hub, or ``NotFound`` when there is none or it lies outside the actor's area."""
    actor.require(READ)
    hub = session.scalar(select(TransportHub).where(TransportHub.code == code))
    if hub is None or not actor.covers(hub.region_path):
        raise NotFound(MSG_NO_HUB)
    return hub
