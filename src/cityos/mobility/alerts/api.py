"""JSON routes of mobility.alerts: the rules (traffic:manage), the alerts (read: traffic:read;
acknowledge and close: traffic:manage) and the guidance feed (traffic:read, also for OAuth
clients of navigation apps and signs; ETag and 304)."""

from __future__ import annotations

import hashlib
from typing import Annotated

from fastapi import APIRouter, Header, Query, Response

from cityos.core.actor import Actor
from cityos.core.errors import FieldError, Invalid
from cityos.core.http import DbSession
from cityos.core.i18n import N_, translate
from cityos.identity.deps import CurrentActor
from cityos.mobility.alerts import guidance, service
from cityos.mobility.alerts.models import TrafficAlertRule
from cityos.mobility.alerts.schemas import (
    AlertPage,
    AlertRead,
    GuidanceFeed,
    GuidanceRead,
    RuleCreate,
    RuleRead,
    RuleUpdate,
)

router = APIRouter(prefix="/api/v1/mobility", tags=["mobility"])

MSG_SINCE = N_("Give the cursor of an earlier answer or a time in ISO 8601.")


def rule_read(rule: TrafficAlertRule) -> RuleRead:
    return RuleRead(
        id=rule.id,
        code=rule.code,
        name=rule.name,
        title=translate(rule.name),
        target=rule.target,
        kind=rule.kind,
        min_band=rule.min_band,
        ratio=rule.ratio,
        min_weeks=rule.min_weeks,
        duration_min=rule.duration_min,
        clear_min=rule.clear_min,
        road_classes=rule.road_classes,
        region_id=rule.region_id,
        active=rule.active,
    )


def _manage(actor: Actor) -> None:
    actor.require(service.MANAGE)


@router.get("/alert-rules", response_model=list[RuleRead])
def list_rules(session: DbSession, actor: CurrentActor) -> list[RuleRead]:
    _manage(actor)
    return [rule_read(r) for r in service.list_rules(session, actor)]


@router.post("/alert-rules", response_model=RuleRead, status_code=201)
def create_rule(body: RuleCreate, session: DbSession, actor: CurrentActor) -> RuleRead:
    return rule_read(service.create_rule(session, actor, **body.model_dump()))


@router.get("/alert-rules/{alert_rule_id}", response_model=RuleRead)
def get_rule(alert_rule_id: int, session: DbSession, actor: CurrentActor) -> RuleRead:
    _manage(actor)
    return rule_read(service.get_rule(session, actor, alert_rule_id))


@router.patch("/alert-rules/{alert_rule_id}", response_model=RuleRead)
def update_rule(alert_rule_id: int, body: RuleUpdate, session: DbSession, actor: CurrentActor) -> RuleRead:
    changes = {k: v for k, v in body.model_dump().items() if k in body.model_fields_set}
    return rule_read(service.update_rule(session, actor, rule_id=alert_rule_id, **changes))


@router.delete("/alert-rules/{alert_rule_id}", status_code=204)
def delete_rule(alert_rule_id: int, session: DbSession, actor: CurrentActor) -> Response:
    service.delete_rule(session, actor, rule_id=alert_rule_id)
    return Response(status_code=204)


@router.get("/alerts", response_model=AlertPage)
def list_alerts(
    session: DbSession,
    actor: CurrentActor,
    status: Annotated[str | None, Query()] = None,
    kind: Annotated[str | None, Query()] = None,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> AlertPage:
    rows, total = service.list_alerts(session, actor, status=status or None, kind=kind, offset=offset, limit=limit)
    return AlertPage(items=[AlertRead.model_validate(a) for a in rows], total=total)


@router.get("/alerts/{traffic_alert_ref}", response_model=AlertRead)
def get_alert(traffic_alert_ref: str, session: DbSession, actor: CurrentActor) -> AlertRead:
    return AlertRead.model_validate(service.get_alert(session, actor, traffic_alert_ref))


@router.post("/alerts/{traffic_alert_ref}/acknowledge", response_model=AlertRead)
def acknowledge(traffic_alert_ref: str, session: DbSession, actor: CurrentActor) -> AlertRead:
    return AlertRead.model_validate(service.acknowledge(session, actor, alert_id=traffic_alert_ref))


@router.post("/alerts/{traffic_alert_ref}/close", response_model=AlertRead)
def close(traffic_alert_ref: str, session: DbSession, actor: CurrentActor) -> AlertRead:
    return AlertRead.model_validate(service.close(session, actor, alert_id=traffic_alert_ref))


@router.get("/guidance", response_model=GuidanceFeed)
def guidance_feed(
    session: DbSession,
    actor: CurrentActor,
    since: Annotated[str | None, Query()] = None,
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    """Active guidance messages, or with ``since`` (the ``cursor`` of an earlier answer) those
    issued or changed after it. The ETag is the answer's hash: ``If-None-Match`` gives a 304."""
    at = None
    if since:
        at = guidance.parse_cursor(since)
        if at is None:
            raise Invalid(details=[FieldError("since", MSG_SINCE)])
    found = guidance.feed(session, actor, since=at)
    body = GuidanceFeed(items=[GuidanceRead.model_validate(m) for m in found.items], cursor=found.cursor)
    items = GuidanceFeed(items=body.items, cursor="").model_dump_json()
    etag = '"' + hashlib.sha256(f"{since or ''}|{items}".encode()).hexdigest()[:32] + '"'
    headers = {"ETag": etag, "Cache-Control": "no-cache"}
    if if_none_match and etag in [t.strip() for t in if_none_match.split(",")]:
        return Response(status_code=304, headers=headers)
    return Response(content=body.model_dump_json(), media_type="application/json", headers=headers)
