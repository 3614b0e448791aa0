"""The alarm rules editor (告警规则): ``/hub/devices/rules`` lists the rules that watch the
manager's area with a form for a new one; ``/hub/devices/rules/{id}`` changes or deletes one."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from cityos.cases import service as cases
from cityos.core.actor import Actor
from cityos.core.errors import DomainError
from cityos.core.http import DbSession
from cityos.hub.devices import service
from cityos.hub.devices.models import OPERATORS, AlarmRule
from cityos.hub.ingest import service as ingest
from cityos.places.models import Region
from cityos.web.forms import refused
from cityos.web.shell import PageActor
from cityos.web.templating import render

router = APIRouter(include_in_schema=False)


def value_of(text: str) -> Any:
    """A threshold typed in a form: a number, true/false, a word, or nothing."""
    text = text.strip()
    if not text:
        return None
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    try:
        number = float(text)
    except ValueError:
        return text
    return int(number) if number.is_integer() and "." not in text else number


def shown(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _values(rule: AlarmRule) -> dict[str, str]:
    return {
        "name": rule.name,
        "device_kind": rule.device_kind or "",
        "profile_code": rule.profile_code or "",
        "attribute": rule.attribute,
        "operator": rule.operator,
        "threshold": shown(rule.threshold),
        "clear_threshold": shown(rule.clear_threshold),
        "category_code": rule.category_code,
        "detail": rule.detail,
        "active": "1" if rule.active else "",
        "region_id": str(rule.region_id or ""),
    }


def _changes(raw: dict[str, str]) -> dict[str, Any]:
    return {
        "name": raw.get("name", ""),
        "device_kind": raw.get("device_kind") or None,
        "profile_code": raw.get("profile_code") or None,
        "attribute": raw.get("attribute", ""),
        "operator": raw.get("operator", ""),
        "threshold": value_of(raw.get("threshold", "")),
        "clear_threshold": value_of(raw.get("clear_threshold", "")),
        "category_code": raw.get("category_code", ""),
        "detail": raw.get("detail", ""),
        "active": raw.get("active") == "1",
    }


def _choices(session: Session, actor: Actor) -> dict[str, Any]:
    categories = [c for c in cases.list_categories(session) if c.level >= 2]
    regions: list[Region] = []
    if actor.scope_region_id is not None:
        root = session.get(Region, actor.scope_region_id)
        if root is not None:
            from sqlalchemy import select

            regions = list(
                session.scalars(
                    select(Region)
                    .where(actor.scope_clause(Region.path), Region.depth <= root.depth + 2)
                    .order_by(Region.path)
                    .limit(300)
                )
            )
    return {
        "operators": OPERATORS,
        "profiles": ingest.profiles(session),
        "kinds": sorted({p.device_kind for p in ingest.profiles(session)}),
        "categories": categories,
        "category_names": {c.code: c.name for c in categories},
        "regions": regions,
    }


def _rules_page(
    request: Request,
    session: Session,
    actor: Actor,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    rules = service.list_rules(session, actor)
    return render(
        request,
        "hub/devices/rules.html",
        {
            "rules": rules,
            "editable": {r.id: service.editable(actor, r) for r in rules},
            "values": values or {"active": "1", "operator": ">="},
            "errors": errors or {},
            "shown": shown,
            "notice": request.query_params.get("done"),
            **_choices(session, actor),
        },
        status_code=status_code,
    )


async def posted(request: Request) -> dict[str, str]:
    form = await request.form()
    return {k: str(v) for k, v in form.items() if isinstance(v, str)}


@router.get("/hub/devices/rules", response_class=HTMLResponse)
def rules(request: Request, session: DbSession, actor: PageActor) -> HTMLResponse:
    return _rules_page(request, session, actor)


@router.post("/hub/devices/rules", response_class=HTMLResponse)
async def create_rule(request: Request, session: DbSession, actor: PageActor) -> Response:
    raw = await posted(request)
    region = raw.get("region_id", "")
    try:
        service.create_rule(
            session, actor, **_changes(raw), region_id=int(region) if region.isdigit() else actor.scope_region_id
        )
    except DomainError as exc:
        errors = refused(request, session, actor, exc)
        return _rules_page(request, session, actor, values=raw, errors=errors, status_code=exc.status_code)
    return RedirectResponse("/hub/devices/rules?done=created", status_code=303)


def _rule_page(
    request: Request,
    session: Session,
    actor: Actor,
    rule: AlarmRule,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "hub/devices/rule.html",
        {
            "rule": rule,
            "can_edit": service.editable(actor, rule),
            "values": values or _values(rule),
            "errors": errors or {},
            **_choices(session, actor),
        },
        status_code=status_code,
    )


@router.get("/hub/devices/rules/{rule_id}", response_class=HTMLResponse)
def rule(rule_id: int, request: Request, session: DbSession, actor: PageActor) -> HTMLResponse:
    return _rule_page(request, session, actor, service.get_rule(session, actor, rule_id))


@router.post("/hub/devices/rules/{rule_id}", response_class=HTMLResponse)
async def update_rule(rule_id: int, request: Request, session: DbSession, actor: PageActor) -> Response:
    raw = await posted(request)
    try:
        service.update_rule(session, actor, rule_id=rule_id, **_changes(raw))
    except DomainError as exc:
        errors = refused(request, session, actor, exc)
        found = service.get_rule(session, actor, rule_id)
        return _rule_page(request, session, actor, found, values=raw, errors=errors, status_code=exc.status_code)
    return RedirectResponse("/hub/devices/rules?done=saved", status_code=303)


@router.post("/hub/devices/rules/{rule_id}/delete", response_class=HTMLResponse)
def delete_rule(rule_id: int, session: DbSession, actor: PageActor) -> Response:
    service.delete_rule(session, actor, rule_id=rule_id)
    return RedirectResponse("/hub/devices/rules?done=deleted", status_code=303)
