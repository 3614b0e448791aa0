"""Permission-matrix entries of mobility.alerts (see tests/matrix_parts/base.py).

Rules are the city's (traffic:manage, not data-scoped); alerts are placed where they are: an
alert in grid 1 and one in grid 2, so an account of grid 1 sees and acts on the first only. The
guidance feed carries no personal data and is not scoped (traffic:read)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from cityos.core.db import utcnow
from cityos.mobility.alerts.models import TrafficAlert, TrafficAlertRule
from tests.factories import World
from tests.matrix_parts.base import Case

READ, MANAGE = "traffic:read", "traffic:manage"


def _rule_body(ids: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": "矩阵告警规则",
        "target": "segment",
        "kind": "band",
        "min_band": 4,
        "duration_min": 10,
        "clear_min": 10,
    }


def _patch_body(ids: dict[str, Any]) -> dict[str, Any]:
    return {"duration_min": 15}


CASES: tuple[Case, ...] = (
    Case("GET", "/api/v1/mobility/alert-rules", MANAGE, outside=False),
    Case("POST", "/api/v1/mobility/alert-rules", MANAGE, body=_rule_body, outside=False),
    Case("GET", "/api/v1/mobility/alert-rules/{alert_rule_id}", MANAGE, outside=False),
    Case(
        "PATCH",
        "/api/v1/mobility/alert-rules/{alert_rule_id}",
        MANAGE,
        body=lambda i: {"duration_min": 15},
        outside=False,
    ),
    Case("DELETE", "/api/v1/mobility/alert-rules/{alert_rule_id}", MANAGE, outside=False),
    Case("GET", "/api/v1/mobility/alerts", READ, list_key="items", kind="traffic_alert"),
    Case("GET", "/api/v1/mobility/alerts/{traffic_alert_ref}", READ),
    Case("POST", "/api/v1/mobility/alerts/{traffic_alert_ref}/acknowledge", MANAGE),
    Case("POST", "/api/v1/mobility/alerts/{traffic_alert_ref}/close", MANAGE),
    Case("GET", "/api/v1/mobility/guidance", READ, outside=False),
)
PATH_PARAMS: dict[str, str] = {"alert_rule_id": "alert_rule", "traffic_alert_ref": "traffic_alert_ref"}


def records(session: Session, world: World, inside: dict[str, Any], outside: dict[str, Any]) -> None:
    """A rule (the city's, in both), and an open alert in grid 1 and in grid 2."""
    rule = TrafficAlertRule(
        name="矩阵规则", target="segment", kind="band", min_band=4, duration_min=10, clear_min=10, active=True
    )
    session.add(rule)
    session.flush()
    now = utcnow()
    for side, grid, n in ((inside, world.grid1, 1), (outside, world.grid2, 2)):
        alert = TrafficAlert(
            alert_id=f"matrixalert{n}",
            rule_id=rule.id,
            rule_kind="band",
            kind="segment",
            network_code="matrix",
            target_id=f"seg-{n}",
            target_name=f"seg-{n}",
            road_class="arterial",
            severity=4,
            max_severity=4,
            speed_kmh=20.0,
            lon=grid.lon or 104.0,
            lat=grid.lat or 30.0,
            region_path=grid.path,
            started_at=now - timedelta(minutes=15),
            last_seen_at=now,
            status="open",
        )
        session.add(alert)
        session.flush()
        side.update(alert_rule=rule.id, traffic_alert=alert.id, traffic_alert_ref=alert.alert_id)
