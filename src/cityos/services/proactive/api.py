"""JSON routes of services.proactive (服务找人)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from cityos.core.http import DbSession
from cityos.identity.deps import CurrentActor
from cityos.services.proactive import service
from cityos.services.proactive.schemas import OfferApplied, OfferRead, RuleRead, RuleUpdate

router = APIRouter(prefix="/api/v1", tags=["services"])

RuleKey = Annotated[str, Path(max_length=32)]


@router.get("/offers", response_model=list[OfferRead])
def list_offers(
    session: DbSession, actor: CurrentActor, status: Annotated[str, Query(max_length=16)] = "offered"
) -> list[OfferRead]:
    """Your own offers (服务找人): ``status`` offered (default), applied, dismissed or all."""
    return [OfferRead.of(o) for o in service.my_offers(session, actor, status=status)]


@router.post("/offers/{offer_id}/apply", response_model=OfferApplied)
def apply_offer(offer_id: int, session: DbSession, actor: CurrentActor) -> OfferApplied:
    """一键申请: submit with the pre-filled form; when something is missing, ``next_url`` is the
    apply page with what could be filled."""
    return OfferApplied.of(service.apply(session, actor, offer_id=offer_id))


@router.post("/offers/{offer_id}/dismiss", response_model=OfferRead)
def dismiss_offer(offer_id: int, session: DbSession, actor: CurrentActor) -> OfferRead:
    """不需要: put the offer away; it is not made again."""
    return OfferRead.of(service.dismiss(session, actor, offer_id=offer_id))


@router.get("/proactive-rules", response_model=list[RuleRead])
def list_rules(session: DbSession, actor: CurrentActor) -> list[RuleRead]:
    """The rules of 服务找人 and whether each runs."""
    return [RuleRead.of(r) for r in service.list_rules(session, actor)]


@router.put("/proactive-rules/{rule_key}", response_model=RuleRead)
def update_rule(rule_key: RuleKey, body: RuleUpdate, session: DbSession, actor: CurrentActor) -> RuleRead:
    """Switch a rule on or off (service:write)."""
    return RuleRead.of(service.set_rule_active(session, actor, key=rule_key, active=body.active))
