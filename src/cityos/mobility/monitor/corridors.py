"""Corridors (重点通道): named chains of segments of the active network, watched as one area."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cityos.core.actor import Actor
from cityos.core.errors import Conflict, FieldError, Invalid, NotFound
from cityos.core.i18n import N_
from cityos.mobility.monitor.models import TrafficCorridor
from cityos.mobility.monitor.schemas import CorridorCreate, CorridorUpdate
from cityos.mobility.network import service as network
from cityos.mobility.network.models import RoadNetwork, RoadSegment

MAX_SEGMENTS = 500
_CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")

MSG_CODE = N_("A corridor code is 1 to 64 lower-case letters, digits, hyphens or underscores.")
MSG_NAME = N_("Give the corridor a name of at most 200 characters.")
MSG_NAME_EN = N_("The English name is at most 200 characters.")
MSG_SEGMENTS = N_("List the corridor's segments in travel order (1 to 500).")
MSG_SEGMENT_UNKNOWN = N_("This segment is not in the active road network.")
MSG_SEGMENT_TWICE = N_("This segment is listed twice.")
MSG_NO_NETWORK = N_("No road network has been imported yet.")
MSG_CODE_TAKEN = N_("A corridor with this code exists.")


def list_corridors(session: Session, actor: Actor, *, active_only: bool = False) -> list[TrafficCorridor]:
    actor.require("traffic:read")
    q = select(TrafficCorridor).order_by(TrafficCorridor.code)
    if active_only:
        q = q.where(TrafficCorridor.active.is_(True))
    return list(session.scalars(q))


def get_corridor(session: Session, actor: Actor, code: str) -> TrafficCorridor:
    actor.require("traffic:read")
    corridor = session.scalar(select(TrafficCorridor).where(TrafficCorridor.code == code))
    if corridor is None:
        raise NotFound()
    return corridor


def _network(session: Session) -> RoadNetwork:
    net = network.active_network(session)
    if net is None:
        raise Invalid(details=[FieldError("segment_ids", MSG_NO_NETWORK)])
    return net


def _segment_errors(session: Session, net: RoadNetwork, ids: list[Any]) -> list[FieldError]:
    if not ids or len(ids) > MAX_SEGMENTS:
        return [FieldError("segment_ids", MSG_SEGMENTS)]
    errors: list[FieldError] = []
    wanted = [i for i in ids if isinstance(i, str) and i]
    known = set(
        session.scalars(
            select(RoadSegment.segment_id).where(RoadSegment.network_id == net.id, RoadSegment.segment_id.in_(wanted))
        )
    )
    seen: set[str] = set()
    for n, sid in enumerate(ids):
        if not isinstance(sid, str) or sid not in known:
            errors.append(FieldError(f"segment_ids.{n}", MSG_SEGMENT_UNKNOWN, {"segment_id": str(sid)}))
        elif sid in seen:
            errors.append(FieldError(f"segment_ids.{n}", MSG_SEGMENT_TWICE, {"segment_id": sid}))
        else:
            seen.add(sid)
    return errors


def _name_errors(name: str | None, name_en: str | None, *, required: bool) -> list[FieldError]:
    errors = []
    if (required or name is not None) and (not (name or "").strip() or len(name or "") > 200):
        errors.append(FieldError("name", MSG_NAME))
    if name_en is not None and len(name_en) > 200:
        errors.append(FieldError("name_en", MSG_NAME_EN))
    return errors


def create_corridor(session: Session, actor: Actor, *, data: CorridorCreate) -> TrafficCorridor:
    actor.require("traffic:manage")
    net = _network(session)
    errors = [] if _CODE.match(data.code or "") else [FieldError("code", MSG_CODE)]
    errors += _name_errors(data.name, data.name_en, required=True)
    errors += _segment_errors(session, net, data.segment_ids)
    if errors:
        raise Invalid(details=errors)
    if session.scalar(select(TrafficCorridor.id).where(TrafficCorridor.code == data.code)) is not None:
        raise Conflict(details=[FieldError("code", MSG_CODE_TAKEN)])
    corridor = TrafficCorridor(
        code=data.code,
        name=data.name.strip(),
        name_en=(data.name_en or "").strip() or None,
        network_code=net.code,
        segment_ids=list(data.segment_ids),
        active=data.active,
    )
    session.add(corridor)
    session.flush()
    return corridor


def update_corridor(session: Session, actor: Actor, *, code: str, data: CorridorUpdate) -> TrafficCorridor:
    actor.require("traffic:manage")
    corridor = get_corridor(session, actor, code)
    errors = _name_errors(data.name, data.name_en, required=False)
    net = None
    if data.segment_ids is not None:
        net = _network(session)
        errors += _segment_errors(session, net, data.segment_ids)
    if errors:
        raise Invalid(details=errors)
    if data.name is not None:
        corridor.name = data.name.strip()
    if data.name_en is not None:
        corridor.name_en = data.name_en.strip() or None
    if data.segment_ids is not None and net is not None:
        corridor.segment_ids = list(data.segment_ids)
        corridor.network_code = net.code
    if data.active is not None:
        corridor.active = data.active
    session.flush()
    return corridor


def delete_corridor(session: Session, actor: Actor, *, code: str) -> None:
    actor.require("traffic:manage")
    session.delete(get_corridor(session, actor, code))
    session.flush()


def corridor_members(session: Session, network_code: str) -> dict[str, list[str]]:
    """The active corridors of a network: code -> segment ids (those still in the network)."""
    rows = session.scalars(
        select(TrafficCorridor).where(TrafficCorridor.active.is_(True), TrafficCorridor.network_code == network_code)
    )
    return {c.code: list(c.segment_ids) for c in rows}
