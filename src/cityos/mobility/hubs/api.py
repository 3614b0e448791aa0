"""JSON routes of mobility.hubs: the hubs (read: traffic:read; write: traffic:manage) and a hub's
passenger flow over a window (traffic:read)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response

from cityos.core.http import DbSession
from cityos.identity.deps import CurrentActor
from cityos.mobility.hubs import flow, service
from cityos.mobility.hubs.models import TransportHub
from cityos.mobility.hubs.schemas import (
    HubCreate,
    HubFlowRead,
    HubRead,
    HubUpdate,
    MinuteArrivals,
    MinuteSupply,
    ModeShare,
    PlaceFlow,
)

router = APIRouter(prefix="/api/v1/mobility/hubs", tags=["mobility"])


@router.get("", response_model=list[HubRead])
def list_hubs(session: DbSession, actor: CurrentActor) -> list[TransportHub]:
    return service.list_hubs(session, actor)


@router.post("", response_model=HubRead, status_code=201)
def create_hub(body: HubCreate, session: DbSession, actor: CurrentActor) -> TransportHub:
    return service.create_hub(session, actor, **body.model_dump())


@router.get("/{hub_code}", response_model=HubRead)
def get_hub(hub_code: str, session: DbSession, actor: CurrentActor) -> TransportHub:
    return service.get_hub(session, actor, hub_code)


@router.patch("/{hub_code}", response_model=HubRead)
def update_hub(hub_code: str, body: HubUpdate, session: DbSession, actor: CurrentActor) -> TransportHub:
    changes = {k: v for k, v in body.model_dump().items() if k in body.model_fields_set}
    return service.update_hub(session, actor, code=hub_code, **changes)


@router.delete("/{hub_code}", status_code=204)
def delete_hub(hub_code: str, session: DbSession, actor: CurrentActor) -> Response:
    service.delete_hub(session, actor, code=hub_code)
    return Response(status_code=204)


@router.get("/{hub_code}/flow", response_model=HubFlowRead)
def hub_flow(
    hub_code: str,
    session: DbSession,
    actor: CurrentActor,
    start: Annotated[datetime | None, Query(description="ISO 8601 with a zone; default: 24 hours before end")] = None,
    end: Annotated[datetime | None, Query(description="ISO 8601 with a zone; default: now")] = None,
) -> HubFlowRead:
    f = flow.flow(session, actor, hub_code=hub_code, start=start, end=end)
    return HubFlowRead(
        hub=HubRead.model_validate(f.hub),
        start=f.start,
        end=f.end,
        arrivals=[MinuteArrivals.model_validate(r) for r in f.arrivals.iter_rows(named=True)],
        supply=[MinuteSupply.model_validate(r) for r in f.supply.iter_rows(named=True)],
        mode_share=[ModeShare.model_validate(r) for r in f.mode_share.iter_rows(named=True)],
        origins=[PlaceFlow.model_validate(r) for r in f.origins.iter_rows(named=True)],
        destinations=[PlaceFlow.model_validate(r) for r in f.destinations.iter_rows(named=True)],
        unlocated=f.unlocated,
    )
