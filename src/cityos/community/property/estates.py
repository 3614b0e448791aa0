"""Where property work happens: the estate (小区) a property manager runs, the rooms a resident's
household lives in, the estate's tariff, and the city's months. Every other file of this
sub-package starts from these checks."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from cityos.core.actor import Actor, subtree_clause
from cityos.core.db import utcnow
from cityos.core.errors import FieldError, Forbidden, Invalid, NotFound
from cityos.core.i18n import N_
from cityos.core.settings import get_settings
from cityos.identity.models import Account
from cityos.people.models import Residence
from cityos.places.models import Region, RegionLevel

from .models import Tariff

MANAGE = "property:manage"

MSG_ROOM = N_("Choose a room of this estate.")
MSG_MY_ROOM = N_("Choose one of your own rooms.")
MSG_PERIOD = N_("Give a month like 2026-11.")
MSG_INTEGER_RANGE = N_("Give a whole number from {low} to {high}.")
MSG_NUMBER_RANGE = N_("Give a number from {low} to {high}.")
MSG_GATEWAY = N_("Not an installed payment gateway.")
MSG_NO_ESTATE = N_("There is no estate in your area.")

_PERIOD = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def zone() -> ZoneInfo:
    return ZoneInfo(get_settings().timezone)


def aware(moment: datetime) -> datetime:
    """A device's timestamp in UTC; one without a zone is the city's local time."""
    return (moment if moment.tzinfo else moment.replace(tzinfo=zone())).astimezone(UTC)


def local(moment: datetime | None) -> str:
    """A timestamp as the city reads it (``2026-11-05 14:30``)."""
    return moment.astimezone(zone()).strftime("%Y-%m-%d %H:%M") if moment else ""


def parse_period(value: str, field: str = "period") -> tuple[datetime, datetime]:
    """The UTC bounds [start, end) of a month of the city's calendar; Invalid for a bad month."""
    match = _PERIOD.match(value or "")
    if match is None:
        raise Invalid(details=[FieldError(field, MSG_PERIOD)])
    year, month = int(match.group(1)), int(match.group(2))
    start = datetime(year, month, 1, tzinfo=zone())
    end = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=zone())
    return start, end


def period_of(moment: datetime) -> str:
    return moment.astimezone(zone()).strftime("%Y-%m")


def previous_period(moment: datetime) -> str:
    first = moment.astimezone(zone()).replace(day=1)
    return (first - timedelta(days=1)).strftime("%Y-%m")


def today() -> date:
    return utcnow().astimezone(zone()).date()


# --- estates ---------------------------------------------------------------------------------------------------


def _company_mismatch(session: Session, actor: Actor, estate: Region) -> bool:
    """A property company's staff run only the estates whose tariff names their company (an
    estate without one is open to whoever manages its area)."""
    if actor.organisation_id is None:
        return False
    owner = session.scalar(select(Tariff.organisation_id).where(Tariff.estate_id == estate.id))
    return owner is not None and owner != actor.organisation_id


def managed_estate(session: Session, actor: Actor, estate_id: int, *, permission: str = MANAGE) -> Region:
    """The estate ``actor`` runs: 404 when it is not an estate, lies outside their area or belongs
    to another property company; 403 without the permission."""
    estate = session.get(Region, estate_id)
    if estate is None or estate.level != RegionLevel.ESTATE or not actor.covers(estate):
        raise NotFound()
    actor.require(permission, region=estate)
    if _company_mismatch(session, actor, estate):
        raise NotFound()
    return estate


def estates_in_scope(session: Session, actor: Actor, *, limit: int = 200) -> list[Region]:
    """The estates the actor may manage, for the console's picker."""
    actor.require(MANAGE)
    rows = session.scalars(
        select(Region)
        .where(Region.level == RegionLevel.ESTATE, actor.scope_clause(Region.path))
        .order_by(Region.name, Region.id)
        .limit(limit)
    ).all()
    return [r for r in rows if not _company_mismatch(session, actor, r)]


def ancestors(session: Session, path: str) -> dict[str, Region]:
    """Level → region along a path (estate, building …)."""
    ids = [int(p) for p in path.strip("/").split("/") if p]
    if not ids:
        return {}
    return {r.level: r for r in session.scalars(select(Region).where(Region.id.in_(ids)))}


def estate_of(session: Session, path: str) -> Region | None:
    return ancestors(session, path).get(RegionLevel.ESTATE)


def room_of_estate(session: Session, estate: Region, room_id: Any, *, field: str = "room_id") -> Region:
    room = session.get(Region, room_id) if isinstance(room_id, int) else None
    if room is None or room.level != RegionLevel.ROOM or not room.path.startswith(estate.path):
        raise Invalid(details=[FieldError(field, MSG_ROOM)])
    return room


def rooms_of_estate(session: Session, estate: Region) -> list[Region]:
    return list(
        session.scalars(
            select(Region)
            .where(Region.level == RegionLevel.ROOM, subtree_clause(Region.path, estate.path))
            .order_by(Region.path)
        )
    )


def building_id_of(session: Session, path: str) -> int | None:
    building = ancestors(session, path).get(RegionLevel.BUILDING)
    return building.id if building else None


# --- households -----------------------------------------------------------------------------------------------


def _current(day: date) -> Any:
    return or_(Residence.until.is_(None), Residence.until >= day)


def my_rooms(session: Session, actor: Actor, *, day: date | None = None) -> list[int]:
    """The rooms the actor's household lives in now (any relation)."""
    if actor.person_id is None:
        return []
    day = day or today()
    return sorted(
        set(
            session.scalars(
                select(Residence.room_id).where(
                    Residence.person_id == actor.person_id, Residence.since <= day, _current(day)
                )
            )
        )
    )


def my_room(session: Session, actor: Actor, room_id: Any, *, field: str = "room_id") -> Region:
    """One of the actor's own rooms (Invalid otherwise: the form asks for a room)."""
    if not isinstance(room_id, int) or room_id not in my_rooms(session, actor):
        raise Invalid(details=[FieldError(field, MSG_MY_ROOM)])
    room = session.get(Region, room_id)
    assert room is not None
    return room


def household_accounts(session: Session, room_ids: list[int], *, day: date | None = None) -> list[int]:
    """Active accounts of the people living in these rooms now, to tell them something."""
    if not room_ids:
        return []
    day = day or today()
    return sorted(
        set(
            session.scalars(
                select(Account.id)
                .join(Residence, Residence.person_id == Account.person_id)
                .where(
                    Residence.room_id.in_(room_ids),
                    Residence.since <= day,
                    _current(day),
                    Account.active.is_(True),
                )
            )
        )
    )


def require_resident(actor: Actor, permission: str) -> None:
    actor.require(permission)
    if not actor.is_authenticated:
        raise Forbidden(params={"permission": permission})


# --- tariffs --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bound:
    low: float
    high: float
    whole: bool = True


TARIFF_FIELDS: dict[str, Bound] = {
    "property_fee_fen_per_m2": Bound(0, 100_000),
    "default_area_m2": Bound(1, 10_000, whole=False),
    "parking_monthly_fen": Bound(0, 10_000_000),
    "water_fen_per_m3": Bound(0, 100_000),
    "power_fen_per_kwh": Bound(0, 100_000),
    "visitor_free_minutes": Bound(0, 1440),
    "visitor_hourly_fen": Bound(0, 100_000),
    "visitor_daily_cap_fen": Bound(0, 10_000_000),
    "due_days": Bound(0, 90),
}


def tariff_of(session: Session, estate: Region) -> Tariff | None:
    return session.scalar(select(Tariff).where(Tariff.estate_id == estate.id))


def effective_tariff(session: Session, estate: Region) -> Tariff:
    """The estate's tariff, or the shipped defaults (not stored) when none was set."""
    found = tariff_of(session, estate)
    if found is not None:
        return found
    defaults = {name: col.default.arg for name, col in Tariff.__table__.columns.items() if col.default is not None}
    return Tariff(
        estate_id=estate.id,
        estate_path=estate.path,
        **{k: v for k, v in defaults.items() if k in TARIFF_FIELDS or k == "payment_gateway"},
    )


def set_tariff(session: Session, actor: Actor, *, estate_id: int, values: dict[str, Any]) -> Tariff:
    """Set some or all of an estate's charges (unknown keys are refused by the schema)."""
    from .gateways import available_gateways

    estate = managed_estate(session, actor, estate_id)
    errors: list[FieldError] = []
    clean: dict[str, Any] = {}
    for name, value in values.items():
        if name == "payment_gateway":
            if value not in available_gateways():
                errors.append(FieldError(name, MSG_GATEWAY))
            else:
                clean[name] = value
            continue
        bound = TARIFF_FIELDS.get(name)
        if bound is None:
            continue
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        if ok and bound.whole:
            ok = isinstance(value, int) or float(value).is_integer()
        if not ok or not bound.low <= value <= bound.high:
            msg = MSG_INTEGER_RANGE if bound.whole else MSG_NUMBER_RANGE
            errors.append(FieldError(name, msg, {"low": int(bound.low), "high": int(bound.high)}))
            continue
        clean[name] = int(value) if bound.whole else float(value)
    if errors:
        raise Invalid(details=errors)
    tariff = tariff_of(session, estate)
    if tariff is None:
        tariff = effective_tariff(session, estate)
        tariff.organisation_id = actor.organisation_id
        session.add(tariff)
    for name, value in clean.items():
        setattr(tariff, name, value)
    session.flush()
    return tariff
