"""JSON routes of the hub's alarm rules and open alarms (device:manage, data-scoped)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from cityos.core.actor import Actor
from cityos.core.http import DbSession
from cityos.core.i18n import translate
from cityos.hub.devices import service
from cityos.hub.devices.models import AlarmRule
from cityos.hub.devices.schemas import AlarmPage, AlarmRead, AlarmRuleCreate, AlarmRuleRead, AlarmRuleUpdate
from cityos.identity.deps import CurrentActor

router = APIRouter(prefix="/api/v1/hub", tags=["hub"])


def rule_read(actor: Actor, rule: AlarmRule) -> AlarmRuleRead:
    return AlarmRuleRead(
        id=rule.id,
        code=rule.code,
        name=rule.name,
        title=translate(rule.name),
        device_kind=rule.device_kind,
        profile_code=rule.profile_code,
        attribute=rule.attribute,
        operator=rule.operator,
        threshold=rule.threshold,
        clear_threshold=rule.clear_threshold,
        category_code=rule.category_code,
        detail=rule.detail,
        active=rule.active,
        region_id=rule.region_id,
        region_path=rule.region_path,
        editable=service.editable(actor, rule),
    )


def alarm_read(row: service.OpenAlarm) -> AlarmRead:
    s = row.state
    return AlarmRead(
        id=s.id,
        alarm_id=s.alarm_id,
        rule_id=row.rule.id,
        rule=translate(row.rule.name),
        category_code=row.rule.category_code,
        device_id=row.device.id,
        device_code=row.device.code,
        device_name=row.device.name,
        device_kind=row.device.kind,
        value=s.value,
        last_value=s.last_value,
        since=s.since,
        last_at=s.last_at,
        lon=s.lon,
        lat=s.lat,
    )


@router.get("/alarm-rules", response_model=list[AlarmRuleRead])
def list_rules(session: DbSession, actor: CurrentActor) -> list[AlarmRuleRead]:
    return [rule_read(actor, r) for r in service.list_rules(session, actor)]


@router.post("/alarm-rules", response_model=AlarmRuleRead, status_code=201)
def create_rule(body: AlarmRuleCreate, session: DbSession, actor: CurrentActor) -> AlarmRuleRead:
    rule = service.create_rule(session, actor, **body.model_dump())
    return rule_read(actor, rule)


@router.patch("/alarm-rules/{rule_id}", response_model=AlarmRuleRead)
def update_rule(rule_id: int, body: AlarmRuleUpdate, session: DbSession, actor: CurrentActor) -> AlarmRuleRead:
    changes = {k: v for k, v in body.model_dump().items() if k in body.model_fields_set}
    rule = service.update_rule(session, actor, rule_id=rule_id, **changes)
    return rule_read(actor, rule)


@router.delete("/alarm-rules/{rule_id}", status_code=204)
def delete_rule(rule_id: int, session: DbSession, actor: CurrentActor) -> Response:
    service.delete_rule(session, actor, rule_id=rule_id)
    return Response(status_code=204)


@router.get("/alarms", response_model=AlarmPage)
def open_alarms(
    session: DbSession,
    actor: CurrentActor,
    device_id: Annotated[int | None, Query()] = None,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> AlarmPage:
    rows, total = service.open_alarms(session, actor, device_id=device_id, offset=offset, limit=limit)
    return AlarmPage(items=[alarm_read(r) for r in rows], total=total)
