"""Garbage sorting (垃圾分类): bins are Devices of kind bin reporting their fill level; a bin over
90 % full raises the cases module's DeviceAlarm, so a case opens; sorting checks per household
(by the bin's camera or an inspector) give points — correct +1, wrong −1, never below 0 — and
rank the buildings each month."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, func, select, update
from sqlalchemy.orm import Session

from cityos.cases.events import DeviceAlarm
from cityos.core import bus
from cityos.core.actor import Actor, subtree_clause
from cityos.core.db import utcnow
from cityos.core.errors import FieldError, Forbidden, Invalid
from cityos.core.i18n import N_, translate
from cityos.people.residences import addresses
from cityos.places.devices import service as devices
from cityos.places.devices.models import Device, DeviceStatus
from cityos.places.models import Region

from .estates import (
    aware,
    building_id_of,
    estate_of,
    managed_estate,
    my_rooms,
    parse_period,
    period_of,
    room_of_estate,
)
from .models import HouseholdPoints, SortingEvent

BIN = "bin"
CAMERA = "camera"
FULL = 0.9  # over this the bin overflows: an alarm, once
EMPTIED = 0.5  # below this it was emptied: the next overflow is a new alarm
# 市容环境 › 暴露垃圾 in the shipped category tree (cases/catalogue.py): what an overflowing bin leaves.
BIN_OVERFLOW_CATEGORY = "event.01.01"
STREAMS = ("kitchen", "recyclable", "hazardous", "other")  # 厨余 可回收 有害 其他
STREAM_TITLES = {
    "kitchen": N_("Kitchen waste"),
    "recyclable": N_("Recyclable"),
    "hazardous": N_("Hazardous"),
    "other": N_("Other waste"),
}

MSG_NOT_BIN = N_("This device is not a garbage bin.")
MSG_FILL = N_("Give the fill level as a fraction from 0 to 1.")
MSG_CORRECT = N_("Say whether the sorting was correct (true or false).")
MSG_BIN = N_("Choose a bin of this estate.")
MSG_AT = N_("This time is in the future.")
MSG_REF = N_("At most 80 characters.")


def bin_reading(session: Session, bin_: Device, *, fill_level: Any, at: datetime | None = None) -> Device:
    """A bin reports how full it is. Crossing 90 % publishes a DeviceAlarm (the cases module opens
    a case from it); the bin stays in alarm until it is emptied."""
    if bin_.kind != BIN:
        raise Forbidden(MSG_NOT_BIN)
    ok = isinstance(fill_level, int | float) and not isinstance(fill_level, bool)
    if not ok or not 0 <= fill_level <= 1:
        raise Invalid(details=[FieldError("fill_level", MSG_FILL)])
    now = utcnow()
    at = aware(at) if at else now
    if at > now + timedelta(minutes=5):
        raise Invalid(details=[FieldError("at", MSG_AT)])
    level = round(float(fill_level), 3)
    state: dict[str, Any] = {"fill_level": level}
    overflowing = (bin_.state or {}).get("overflow_since")
    status = None
    if level > FULL and not overflowing:
        state["overflow_since"] = at.isoformat()
        status = DeviceStatus.ALARM
        estate = estate_of(session, bin_.region_path)
        lon = bin_.lon if bin_.lon is not None else (estate.lon if estate else None)
        lat = bin_.lat if bin_.lat is not None else (estate.lat if estate else None)
        if lon is not None and lat is not None:
            detail = translate("Bin {name} is {percent}% full", name=bin_.name, percent=round(level * 100))
            bus.publish(
                session,
                DeviceAlarm(
                    alarm_id=f"bin:{bin_.id}:{at:%Y%m%dT%H%M%S}",
                    device_id=bin_.code,
                    category_code=BIN_OVERFLOW_CATEGORY,
                    lon=lon,
                    lat=lat,
                    detail=detail,
                ),
                key=f"bin-full:{bin_.id}:{at:%Y%m%dT%H%M%S}",
            )
    elif level < EMPTIED and overflowing:
        state["overflow_since"] = None
        status = DeviceStatus.ONLINE
    devices.record_state(session, bin_, status=status, state=state, at=at)
    return bin_


def _points(session: Session, room: Region, estate: Region, correct: bool) -> None:
    row = session.scalar(select(HouseholdPoints).where(HouseholdPoints.room_id == room.id))
    if row is None:
        row = HouseholdPoints(room_id=room.id, estate_id=estate.id, region_path=room.path, points=0, correct=0, wrong=0)
        session.add(row)
        session.flush()
    # One statement, so two checks at once cannot push the points below zero.
    session.execute(
        update(HouseholdPoints)
        .where(HouseholdPoints.id == row.id)
        .values(
            points=HouseholdPoints.points + 1
            if correct
            else case((HouseholdPoints.points > 0, HouseholdPoints.points - 1), else_=0),
            correct=HouseholdPoints.correct + (1 if correct else 0),
            wrong=HouseholdPoints.wrong + (0 if correct else 1),
            updated_at=utcnow(),
        )
        .execution_options(synchronize_session=False)
    )
    session.refresh(row)


def _record(
    session: Session,
    *,
    estate: Region,
    room_id: Any,
    correct: Any,
    source: str,
    bin_id: int | None = None,
    at: datetime | None = None,
    ref: str | None = None,
    by: Actor | None = None,
) -> tuple[SortingEvent, bool]:
    errors: list[FieldError] = []
    room = None
    try:
        room = room_of_estate(session, estate, room_id)
    except Invalid as exc:
        errors.extend(exc.details)
    if not isinstance(correct, bool):
        errors.append(FieldError("correct", MSG_CORRECT))
    if bin_id is not None:
        found = session.get(Device, bin_id)
        if found is None or found.kind != BIN or not found.region_path.startswith(estate.path):
            errors.append(FieldError("bin_id", MSG_BIN))
    now = utcnow()
    at = aware(at) if at else now
    if at > now + timedelta(minutes=5):
        errors.append(FieldError("at", MSG_AT))
    if ref is not None and len(ref) > 80:
        errors.append(FieldError("ref", MSG_REF))
    if errors:
        raise Invalid(details=errors)
    assert room is not None
    if ref:
        seen = session.scalar(select(SortingEvent).where(SortingEvent.ref == ref))
        if seen is not None:
            return seen, False
    event = SortingEvent(
        estate_id=estate.id,
        building_id=building_id_of(session, room.path),
        room_id=room.id,
        bin_id=bin_id,
        correct=correct,
        source=source,
        ref=ref or None,
        by_account_id=by.account_id if by else None,
        at=at,
    )
    session.add(event)
    session.flush()
    _points(session, room, estate, bool(correct))
    return event, True


def inspect(
    session: Session,
    actor: Actor,
    *,
    estate_id: int,
    room_id: Any,
    correct: Any,
    bin_id: int | None = None,
    at: datetime | None = None,
) -> SortingEvent:
    """An inspector (督导员) of the property office judged a household's drop."""
    estate = managed_estate(session, actor, estate_id)
    event, _ = _record(
        session, estate=estate, room_id=room_id, correct=correct, source="inspector", bin_id=bin_id, at=at, by=actor
    )
    return event


def camera_check(
    session: Session, device: Device, *, room_id: Any, correct: Any, at: datetime | None = None, ref: str | None = None
) -> tuple[SortingEvent, bool]:
    """A bin's camera (the bin or a camera of its estate) judged a household's drop; ``ref``, the
    camera's own event id, makes a repeated event count once."""
    if device.kind not in (BIN, CAMERA):
        raise Forbidden(MSG_NOT_BIN)
    estate = estate_of(session, device.region_path)
    if estate is None:
        raise Forbidden(MSG_NOT_BIN)
    return _record(
        session,
        estate=estate,
        room_id=room_id,
        correct=correct,
        source="camera",
        bin_id=device.id if device.kind == BIN else None,
        at=at,
        ref=ref,
    )


@dataclass(frozen=True)
class BuildingRank:
    rank: int
    building_id: int
    name: str
    correct: int
    wrong: int

    @property
    def accuracy(self) -> float:
        total = self.correct + self.wrong
        return self.correct / total if total else 0.0


def ranking(session: Session, *, estate: Region, month: str) -> list[BuildingRank]:
    """The estate's buildings by sorting accuracy in a month (more checks first on a tie)."""
    start, end = parse_period(month, "month")
    rows = session.execute(
        select(
            SortingEvent.building_id,
            func.sum(case((SortingEvent.correct.is_(True), 1), else_=0)),
            func.sum(case((SortingEvent.correct.is_(True), 0), else_=1)),
        )
        .where(
            SortingEvent.estate_id == estate.id,
            SortingEvent.building_id.is_not(None),
            SortingEvent.at >= start,
            SortingEvent.at < end,
        )
        .group_by(SortingEvent.building_id)
    ).all()
    names = dict(session.execute(select(Region.id, Region.name).where(Region.id.in_({r[0] for r in rows}))).all())
    figures = [(int(b), names.get(b, "-"), int(c or 0), int(w or 0)) for b, c, w in rows]
    figures.sort(key=lambda f: (-(f[2] / (f[2] + f[3]) if f[2] + f[3] else 0), -(f[2] + f[3]), f[1]))
    return [BuildingRank(i, b, n, c, w) for i, (b, n, c, w) in enumerate(figures, start=1)]


@dataclass(frozen=True)
class Household:
    room_id: int
    address: str
    points: int
    correct: int
    wrong: int


@dataclass(frozen=True)
class MyGarbage:
    month: str
    households: list[Household]
    ranking: list[BuildingRank]
    my_buildings: set[int]


def my_garbage(session: Session, actor: Actor, *, now: datetime | None = None) -> MyGarbage:
    """The household's points and its estate's building ranking this month."""
    actor.require("self:read")
    month = period_of(now or utcnow())
    room_ids = my_rooms(session, actor)
    rooms = list(session.scalars(select(Region).where(Region.id.in_(room_ids)))) if room_ids else []
    points = {
        p.room_id: p for p in session.scalars(select(HouseholdPoints).where(HouseholdPoints.room_id.in_(room_ids)))
    }
    names = addresses(session, rooms) if rooms else {}
    households = [
        Household(
            r.id,
            names.get(r.id, r.name),
            points[r.id].points if r.id in points else 0,
            points[r.id].correct if r.id in points else 0,
            points[r.id].wrong if r.id in points else 0,
        )
        for r in rooms
    ]
    estate = estate_of(session, rooms[0].path) if rooms else None
    ranks = ranking(session, estate=estate, month=month) if estate else []
    buildings = {b for b in (building_id_of(session, r.path) for r in rooms) if b is not None}
    return MyGarbage(month, households, ranks, buildings)


@dataclass(frozen=True)
class GarbageView:
    month: str
    bins: list[Device]
    ranking: list[BuildingRank]
    top: list[tuple[str, HouseholdPoints]]


def overview(session: Session, actor: Actor, *, estate_id: int, month: str | None = None) -> GarbageView:
    estate = managed_estate(session, actor, estate_id)
    month = month or period_of(utcnow())
    bins = list(
        session.scalars(
            select(Device)
            .where(Device.kind == BIN, subtree_clause(Device.region_path, estate.path))
            .order_by(Device.code)
        )
    )
    ranks = ranking(session, estate=estate, month=month)
    best = session.scalars(
        select(HouseholdPoints)
        .where(HouseholdPoints.estate_id == estate.id)
        .order_by(HouseholdPoints.points.desc(), HouseholdPoints.room_id)
        .limit(10)
    ).all()
    rooms = list(session.scalars(select(Region).where(Region.id.in_({p.room_id for p in best})))) if best else []
    names = addresses(session, rooms, within=estate.path) if rooms else {}
    return GarbageView(month, bins, ranks, [(names.get(p.room_id, "-"), p) for p in best])


def accuracy(session: Session, *, region_path: str, month: str) -> float | None:
    """Correct checks over all checks of a month within a subtree (None without checks)."""
    start, end = parse_period(month, "month")
    query = select(func.count(), func.sum(case((SortingEvent.correct.is_(True), 1), else_=0))).join(
        Region, Region.id == SortingEvent.room_id
    )
    query = query.where(subtree_clause(Region.path, region_path), SortingEvent.at >= start, SortingEvent.at < end)
    total, right = session.execute(query).one()
    return int(right or 0) / int(total) if total else None
