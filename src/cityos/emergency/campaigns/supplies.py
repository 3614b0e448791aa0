"""Supplies distribution per household (物资发放): the campaign's items (大米, 蔬菜包, 药品 …),
deliveries recorded by volunteers and grid workers (``supplies:distribute``), totals per
household and the households not served yet, per building (special groups first).

A household is the people of one room (a ``Household`` row is linked when the room has one).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityos.core.actor import Actor, subtree_clause
from cityos.core.db import utcnow
from cityos.core.errors import Conflict, FieldError, Invalid
from cityos.core.i18n import N_
from cityos.emergency.campaigns import kinds
from cityos.emergency.campaigns import service as campaigns
from cityos.emergency.campaigns.models import SuppliesDelivery, SuppliesItem
from cityos.people.models import Household, Residence
from cityos.places.models import Region

MAX_QUANTITY = 1000
_CODE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")

MSG_ROOM = N_("Choose a home of the campaign's area where people live.")
MSG_ITEMS = N_("Give at least one item with a quantity.")
MSG_ITEM = N_("This item is not handed out in this campaign.")
MSG_QUANTITY = N_("Give a quantity above 0 and at most {max}.")
MSG_ITEM_CODE = N_("An item code is a lower-case letter followed by up to 31 letters, digits or '_'.")
MSG_ITEM_TAKEN = N_("This campaign already has an item with this code.")
MSG_ITEM_NAME = N_("Give a name of 1 to {max_length} characters.")
MSG_ITEM_UNIT = N_("Give a unit of 1 to {max_length} characters.")


def items(session: Session, actor: Actor, *, campaign_id: int) -> list[SuppliesItem]:
    campaign = campaigns.get_campaign(session, actor, campaign_id)
    return list(
        session.scalars(select(SuppliesItem).where(SuppliesItem.campaign_id == campaign.id).order_by(SuppliesItem.id))
    )


def add_item(session: Session, actor: Actor, *, campaign_id: int, code: str, name: str, unit: str) -> SuppliesItem:
    campaign = campaigns.get_campaign(session, actor, campaign_id)
    actor.require("campaign:manage", region=campaign.scope_path)
    errors: list[FieldError] = []
    code = (code or "").strip()
    clean_name = " ".join((name or "").split())
    clean_unit = " ".join((unit or "").split())
    if not _CODE.match(code):
        errors.append(FieldError("code", MSG_ITEM_CODE))
    if not 1 <= len(clean_name) <= 64:
        errors.append(FieldError("name", MSG_ITEM_NAME, {"max_length": 64}))
    if not 1 <= len(clean_unit) <= 16:
        errors.append(FieldError("unit", MSG_ITEM_UNIT, {"max_length": 16}))
    if errors:
        raise Invalid(details=errors)
    if session.scalar(
        select(SuppliesItem.id).where(SuppliesItem.campaign_id == campaign.id, SuppliesItem.code == code)
    ):
        raise Invalid(details=[FieldError("code", MSG_ITEM_TAKEN)])
    row = SuppliesItem(campaign_id=campaign.id, code=code, name=clean_name, unit=clean_unit)
    session.add(row)
    session.flush()
    return row


def _inhabited_room(session: Session, actor: Actor, campaign_path: str, room_id: int) -> Region:
    room = session.get(Region, room_id) if room_id else None
    lived = (
        room is not None
        and room.level == "room"
        and room.path.startswith(campaign_path)
        and actor.covers(room)
        and session.scalar(select(Residence.id).where(Residence.room_id == room.id, Residence.until.is_(None)).limit(1))
        is not None
    )
    if not lived or room is None:
        raise Invalid(details=[FieldError("room_id", MSG_ROOM)])
    return room


def deliver(
    session: Session,
    actor: Actor,
    *,
    campaign_id: int,
    room_id: int,
    quantities: dict[str, float],
    note: str | None = None,
    now: datetime | None = None,
) -> list[SuppliesDelivery]:
    """Record what one household received, one row per item."""
    now = now or utcnow()
    campaign = campaigns.get_campaign(session, actor, campaign_id)
    actor.require("supplies:distribute")
    known = {i.code for i in items(session, actor, campaign_id=campaign.id)}
    errors: list[FieldError] = []
    chosen: dict[str, float] = {}
    for code, raw in (quantities or {}).items():
        if code not in known:
            errors.append(FieldError(f"quantities.{code}", MSG_ITEM))
            continue
        if raw in (None, "", 0):
            continue
        try:
            value = float(raw)
        except (TypeError, ValueError):
            value = -1.0
        if isinstance(raw, bool) or not 0 < value <= MAX_QUANTITY:
            errors.append(FieldError(f"quantities.{code}", MSG_QUANTITY, {"max": MAX_QUANTITY}))
            continue
        chosen[code] = value
    if not chosen and not errors:
        errors.append(FieldError("quantities", MSG_ITEMS))
    text = (note or "").strip() or None
    if text is not None and len(text) > 500:
        errors.append(FieldError("note", campaigns.MSG_NOTE, {"max_length": 500}))
    room: Region | None = None
    try:
        room = _inhabited_room(session, actor, campaign.scope_path, room_id)
    except Invalid as exc:
        errors.extend(exc.details)
    if errors or room is None:
        raise Invalid(details=errors)
    if campaign.status != "published":
        raise Conflict(campaigns.MSG_NOT_RUNNING)
    actor.require("supplies:distribute", region=room)
    household_id = session.scalar(select(Household.id).where(Household.room_id == room.id).order_by(Household.id))
    rows = [
        SuppliesDelivery(
            campaign_id=campaign.id,
            room_id=room.id,
            household_id=household_id,
            region_path=room.path,
            item_code=code,
            quantity=value,
            note=text,
            by_account_id=actor.account_id,
            delivered_at=now,
        )
        for code, value in chosen.items()
    ]
    session.add_all(rows)
    session.flush()
    return rows


def household_totals(session: Session, actor: Actor, *, campaign_id: int, room_id: int) -> dict[str, float]:
    campaign = campaigns.get_campaign(session, actor, campaign_id)
    room = session.get(Region, room_id)
    if room is None or not actor.covers(room) or not room.path.startswith(campaign.scope_path):
        raise Invalid(details=[FieldError("room_id", MSG_ROOM)])
    campaigns.require_any(actor, (*campaigns.READ_PERMS, "supplies:distribute"), region=room.path)
    return {
        str(code): float(total)
        for code, total in session.execute(
            select(SuppliesDelivery.item_code, func.sum(SuppliesDelivery.quantity))
            .where(SuppliesDelivery.campaign_id == campaign.id, SuppliesDelivery.room_id == room.id)
            .group_by(SuppliesDelivery.item_code)
        )
    }


@dataclass
class HouseholdLine:
    room_id: int
    room: str
    residents: int
    special: bool
    totals: dict[str, float] = field(default_factory=dict)


@dataclass
class BuildingHouseholds:
    building_id: int | None
    building: str
    households: list[HouseholdLine] = field(default_factory=list)

    @property
    def served(self) -> int:
        return sum(1 for h in self.households if h.totals)


def households(
    session: Session,
    actor: Actor,
    *,
    campaign_id: int,
    region_id: int | None = None,
    unserved_only: bool = False,
    item_code: str | None = None,
) -> list[BuildingHouseholds]:
    """Households (rooms where people live) per building with what each received; with
    ``unserved_only`` the ones not served yet (of ``item_code``, or of anything). Households with
    a special-group member first."""
    campaign = campaigns.get_campaign(session, actor, campaign_id)
    path = campaigns.area(session, actor, campaign, region_id)
    campaigns.require_any(actor, (*campaigns.READ_PERMS, "supplies:distribute"), region=path)
    people = campaigns.residents(session, path)
    tags = campaigns.person_tags(session, path)
    special_tags = set(kinds.SPECIAL_TAGS)
    rooms: dict[int, HouseholdLine] = {}
    room_paths: dict[int, str] = {}
    for p in people:
        line = rooms.get(p.room_id)
        if line is None:
            line = rooms[p.room_id] = HouseholdLine(p.room_id, "", 0, False)
            room_paths[p.room_id] = p.room_path
        line.residents += 1
        line.special = line.special or bool(tags.get(p.person_id, set()) & special_tags)
    for room_id, code, total in session.execute(
        select(SuppliesDelivery.room_id, SuppliesDelivery.item_code, func.sum(SuppliesDelivery.quantity))
        .where(SuppliesDelivery.campaign_id == campaign.id, subtree_clause(SuppliesDelivery.region_path, path))
        .group_by(SuppliesDelivery.room_id, SuppliesDelivery.item_code)
    ):
        if room_id in rooms:
            rooms[room_id].totals[str(code)] = float(total)
    names = (
        dict(session.execute(select(Region.id, Region.name).where(Region.id.in_(list(rooms)))).all()) if rooms else {}
    )
    buildings = campaigns.ancestors_at(session, sorted(set(room_paths.values())), "building")
    groups: dict[int | None, BuildingHouseholds] = {}
    order: dict[int | None, str] = {}
    for room_id, line in rooms.items():
        line.room = str(names.get(room_id, ""))
        if unserved_only and (line.totals.get(item_code, 0) if item_code else sum(line.totals.values())) > 0:
            continue
        b = buildings.get(room_paths[room_id])
        key = b.id if b is not None else None
        if key not in groups:
            groups[key] = BuildingHouseholds(key, b.name if b is not None else "")
            order[key] = b.path if b is not None else "~"
        groups[key].households.append(line)
    for g in groups.values():
        g.households.sort(key=lambda h: (not h.special, room_paths[h.room_id]))
    return sorted(groups.values(), key=lambda g: (not any(h.special for h in g.households), order[g.building_id]))


def coverage(session: Session, actor: Actor, *, campaign_id: int, region_id: int | None = None) -> tuple[int, int]:
    """(households served, households) in the area."""
    groups = households(session, actor, campaign_id=campaign_id, region_id=region_id)
    total = sum(len(g.households) for g in groups)
    served = sum(g.served for g in groups)
    return served, total
