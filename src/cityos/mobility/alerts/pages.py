"""Pages of mobility.alerts (templates in ``web/templates/mobility/alerts/``):

``/tocc/alerts`` the alerts with filters, a map and acknowledge/close (traffic:read to see,
traffic:manage to act); ``/tocc/alerts/rules`` the rules editor (traffic:manage); and the htmx
fragment ``/tocc/alerts/panel`` the board includes: the five latest open alerts.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from cityos.core.actor import Actor
from cityos.core.errors import DomainError
from cityos.core.http import DbSession
from cityos.core.i18n import N_, current_locale
from cityos.core.settings import get_settings
from cityos.mobility.alerts import guidance, service
from cityos.mobility.alerts.models import TrafficAlert, TrafficAlertRule
from cityos.mobility.network.schema import ROAD_CLASSES
from cityos.web.forms import refused
from cityos.web.shell import PageActor
from cityos.web.templating import render

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50
PANEL_SIZE = 5
# The five standard state colours: 畅通 green … 严重拥堵 red.
SEVERITY_COLOURS = {1: "#1a9850", 2: "#91cf60", 3: "#f2c500", 4: "#f28e2b", 5: "#d73027"}
STATUS_TITLES: dict[str, str] = {
    "active": N_("Open or acknowledged"),
    "open": N_("Not yet acknowledged"),
    "acknowledged": N_("Acknowledged"),
    "cleared": N_("Cleared"),
    "all": N_("All"),
}
TARGET_TITLES = {"segment": N_("Segment"), "corridor": N_("Corridor")}
KIND_TITLES = {"band": N_("Congestion level"), "baseline": N_("Below the usual speed")}


def when(moment: datetime | None) -> str:
    if moment is None:
        return ""
    return moment.astimezone(ZoneInfo(get_settings().timezone)).strftime("%m-%d %H:%M")


def _locale() -> str:
    return "en" if current_locale.get() == "en" else "zh_CN"


def common(**extra: Any) -> dict[str, Any]:
    return {
        "when": when,
        "colours": SEVERITY_COLOURS,
        "status_titles": STATUS_TITLES,
        "target_titles": TARGET_TITLES,
        "kind_titles": KIND_TITLES,
        "target": lambda a: guidance.target_label(a, _locale()),
        "level": lambda n: guidance.level_label(n, _locale()),
        **extra,
    }


@router.get("/tocc/alerts/panel", response_class=HTMLResponse)
def panel(request: Request, session: DbSession, actor: PageActor) -> HTMLResponse:
    """The board's alerts panel (htmx fragment): the five latest open alerts. Asked by htmx, it is
    the content of the board's own ``#tocc-alerts``; asked directly, the whole section."""
    rows, total = service.list_alerts(session, actor, status="active", limit=PANEL_SIZE)
    inner = request.headers.get("HX-Request") == "true"
    return render(request, "mobility/alerts/_panel.html", common(alerts=rows, total=total, inner=inner))


def _point(a: TrafficAlert) -> dict[str, Any]:
    return {
        "id": a.alert_id,
        "lon": a.lon,
        "lat": a.lat,
        "severity": a.severity,
        "label": f"{guidance.target_label(a, _locale())} · {guidance.level_label(a.severity, _locale())}",
    }


@router.get("/tocc/alerts", response_class=HTMLResponse)
def alerts(
    request: Request,
    session: DbSession,
    actor: PageActor,
    status: Annotated[str | None, Query()] = None,
    kind: Annotated[str | None, Query()] = None,
    page: Annotated[int, Query(ge=1)] = 1,
) -> HTMLResponse:
    chosen = status if status in STATUS_TITLES else "active"
    target = kind if kind in TARGET_TITLES else None
    rows, total = service.list_alerts(
        session,
        actor,
        status=None if chosen == "all" else chosen,
        kind=target,
        offset=(page - 1) * PAGE_SIZE,
        limit=PAGE_SIZE,
    )
    return render(
        request,
        "mobility/alerts/list.html",
        common(
            alerts=rows,
            total=total,
            page=page,
            pages=max(1, (total + PAGE_SIZE - 1) // PAGE_SIZE),
            filters={"status": chosen, "kind": target or ""},
            points=[_point(a) for a in rows],
            can_manage=actor.can(service.MANAGE),
            notice=request.query_params.get("done"),
        ),
    )


def _back(request: Request, done: str) -> RedirectResponse:
    back = request.headers.get("referer") or ""
    target = "/tocc/alerts" if "/tocc/alerts" not in back or "/rules" in back else back.split("?")[0]
    return RedirectResponse(f"{target}?done={done}", status_code=303)


@router.post("/tocc/alerts/{alert_id}/acknowledge", response_class=HTMLResponse)
def acknowledge(alert_id: str, request: Request, session: DbSession, actor: PageActor) -> Response:
    service.acknowledge(session, actor, alert_id=alert_id)
    return _back(request, "acknowledged")


@router.post("/tocc/alerts/{alert_id}/close", response_class=HTMLResponse)
def close(alert_id: str, request: Request, session: DbSession, actor: PageActor) -> Response:
    service.close(session, actor, alert_id=alert_id)
    return _back(request, "closed")


# --- rules --------------------------------------------------------------------------------------------------------


def _number(text: str) -> Any:
    """A form field as a number when it reads as one (the service says what is wrong otherwise)."""
    text = text.strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text


def _changes(raw: dict[str, str], classes: list[str]) -> dict[str, Any]:
    region = raw.get("region_id", "").strip()
    return {
        "name": raw.get("name", ""),
        "target": raw.get("target", ""),
        "kind": raw.get("kind", ""),
        "min_band": _number(raw.get("min_band", "")),
        "ratio": _number(raw.get("ratio", "")),
        "min_weeks": _number(raw.get("min_weeks", "")),
        "duration_min": _number(raw.get("duration_min", "")),
        "clear_min": _number(raw.get("clear_min", "")),
        "road_classes": classes or None,
        "region_id": int(region) if region.isdigit() else (region or None),
        "active": raw.get("active") == "1",
    }


def _values(rule: TrafficAlertRule) -> dict[str, Any]:
    def shown(v: Any) -> str:
        return "" if v is None else str(v)

    return {
        "name": rule.name,
        "target": rule.target,
        "kind": rule.kind,
        "min_band": shown(rule.min_band),
        "ratio": shown(rule.ratio),
        "min_weeks": shown(rule.min_weeks),
        "duration_min": shown(rule.duration_min),
        "clear_min": shown(rule.clear_min),
        "road_classes": list(rule.road_classes or []),
        "region_id": shown(rule.region_id),
        "active": "1" if rule.active else "",
    }


def _rules_page(
    request: Request,
    session: Session,
    actor: Actor,
    *,
    editing: TrafficAlertRule | None = None,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    actor.require(service.MANAGE)
    defaults = {"target": "segment", "kind": "band", "min_band": "4", "duration_min": "10", "clear_min": "10"}
    return render(
        request,
        "mobility/alerts/rules.html",
        common(
            rules=service.list_rules(session, actor),
            editing=editing,
            values=values or (_values(editing) if editing else {**defaults, "active": "1", "road_classes": []}),
            errors=errors or {},
            road_classes=ROAD_CLASSES,
            notice=request.query_params.get("done"),
        ),
        status_code=status_code,
    )


async def _posted(request: Request) -> tuple[dict[str, str], list[str]]:
    form = await request.form()
    raw = {k: str(v) for k, v in form.items() if isinstance(v, str)}
    classes = [str(v) for v in form.getlist("road_classes") if isinstance(v, str)]
    return raw, classes


@router.get("/tocc/alerts/rules", response_class=HTMLResponse)
def rules(request: Request, session: DbSession, actor: PageActor) -> HTMLResponse:
    return _rules_page(request, session, actor)


@router.post("/tocc/alerts/rules", response_class=HTMLResponse)
async def create_rule(request: Request, session: DbSession, actor: PageActor) -> Response:
    raw, classes = await _posted(request)
    try:
        service.create_rule(session, actor, **_changes(raw, classes))
    except DomainError as exc:
        errors = refused(request, session, actor, exc)
        values: dict[str, Any] = {**raw, "road_classes": classes}
        return _rules_page(request, session, actor, values=values, errors=errors, status_code=exc.status_code)
    return RedirectResponse("/tocc/alerts/rules?done=created", status_code=303)


@router.get("/tocc/alerts/rules/{rule_id}", response_class=HTMLResponse)
def rule(rule_id: int, request: Request, session: DbSession, actor: PageActor) -> HTMLResponse:
    actor.require(service.MANAGE)
    return _rules_page(request, session, actor, editing=service.get_rule(session, actor, rule_id))


@router.post("/tocc/alerts/rules/{rule_id}", response_class=HTMLResponse)
async def update_rule(rule_id: int, request: Request, session: DbSession, actor: PageActor) -> Response:
    raw, classes = await _posted(request)
    try:
        service.update_rule(session, actor, rule_id=rule_id, **_changes(raw, classes))
    except DomainError as exc:
        errors = refused(request, session, actor, exc)
        found = service.get_rule(session, actor, rule_id)
        values: dict[str, Any] = {**raw, "road_classes": classes}
        return _rules_page(
            request, session, actor, editing=found, values=values, errors=errors, status_code=exc.status_code
        )
    return RedirectResponse("/tocc/alerts/rules?done=saved", status_code=303)


@router.post("/tocc/alerts/rules/{rule_id}/delete", response_class=HTMLResponse)
def delete_rule(rule_id: int, session: DbSession, actor: PageActor) -> Response:
    service.delete_rule(session, actor, rule_id=rule_id)
    return RedirectResponse("/tocc/alerts/rules?done=deleted", status_code=303)
