"""API schemas of services.proactive (服务找人)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, StrictBool

from cityos.core.i18n import translate
from cityos.services.proactive import service
from cityos.services.proactive.models import Offer, ProactiveRule


class OfferRead(BaseModel):
    id: int
    rule_key: str
    item_code: str | None
    bundle_code: str | None
    title: str
    reason: str  # why the holder is eligible, in the caller's language
    status: str
    application_id: int | None
    created_at: datetime
    decided_at: datetime | None

    @classmethod
    def of(cls, offer: Offer) -> OfferRead:
        return cls(
            id=offer.id,
            rule_key=offer.rule_key,
            item_code=offer.item_code,
            bundle_code=offer.bundle_code,
            title=service.title_of(offer),
            reason=service.reason_of(offer),
            status=offer.status,
            application_id=offer.application_id,
            created_at=offer.created_at,
            decided_at=offer.decided_at,
        )


class MissingField(BaseModel):
    field: str
    message: str


class OfferApplied(BaseModel):
    """``complete``: submitted, follow it at ``next_url``; otherwise the form needs what
    ``missing`` lists, to be finished at ``next_url`` (pre-filled)."""

    offer: OfferRead
    complete: bool
    application_ids: list[int]
    next_url: str
    missing: list[MissingField]

    @classmethod
    def of(cls, result: service.OfferApplication) -> OfferApplied:
        return cls(
            offer=OfferRead.of(result.offer),
            complete=result.complete,
            application_ids=[a.id for a in result.applications],
            next_url=result.next_url,
            missing=[MissingField(field=e.field, message=translate(e.message, **e.params)) for e in result.errors],
        )


class RuleRead(BaseModel):
    key: str
    title: str
    description: str
    audience: str
    targets: list[str]
    params: dict[str, Any]
    active: bool
    updated_at: datetime

    @classmethod
    def of(cls, rule: ProactiveRule) -> RuleRead:
        return cls(
            key=rule.key,
            title=translate(rule.title),
            description=translate(rule.description, **rule.params),
            audience=rule.audience,
            targets=list(rule.targets),
            params=dict(rule.params),
            active=rule.active,
            updated_at=rule.updated_at,
        )


class RuleUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    active: StrictBool
