"""Permission-matrix entries of hub.apps (see tests/matrix_parts/base.py).

The "inside" light app was registered by a developer of grid 1 and is waiting for review; the
"outside" one by a developer of grid 2. Each has an icon, a webhook and a delivery. An app is
its own developer's only: the matrix's accounts are made afresh per role, so none of them owns
either app, and every developer-only route (edit, submit, keys, icon upload, webhook changes,
redelivery) answers 404 to all of them — which is what it must answer to anyone else's
developer. A reviewer (``app:review``: the administrator) sees and decides on the inside app;
suspending or resuming an app that is only submitted is a conflict (409), its answer. The
catalogue and the topic list are for anyone signed in.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from cityos.hub.apps.models import AppStatus, AppWebhook, DeliveryStatus, LightApp, WebhookDelivery
from tests.factories import World, make_account
from tests.matrix_parts.base import Case

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16
APP = {
    "name": "矩阵应用",
    "category": "data",
    "entry_url": "https://matrix.example.org",
    "requested_scopes": ["region:read"],
}


def _anyone(perms: frozenset[str], role: str) -> bool:
    return True


def _nobody(perms: frozenset[str], role: str) -> bool:
    return False  # the app's own developer only; no matrix account is


CASES: tuple[Case, ...] = (
    Case("GET", "/api/v1/apps/topics", _anyone, outside=False),
    Case("GET", "/api/v1/apps/catalogue", _anyone, list_key="", kind="light_app", outside=False),
    Case("GET", "/api/v1/apps/review", "app:review", list_key="", kind="light_app", outside=False),
    Case(
        "POST",
        "/api/v1/apps/review/{app_id}/approve",
        "app:review",
        body=lambda i: {"scopes": ["region:read"], "region_id": i["grid"], "rate_limit": 60},
    ),
    Case("POST", "/api/v1/apps/review/{app_id}/reject", "app:review", body=lambda i: {"reason": "矩阵"}),
    Case(
        "POST",
        "/api/v1/apps/review/{app_id}/suspend",
        "app:review",
        body=lambda i: {"reason": "矩阵"},
        allowed_status=(409,),
    ),
    Case("POST", "/api/v1/apps/review/{app_id}/resume", "app:review", allowed_status=(409,)),
    Case("PUT", "/api/v1/apps/review/{app_id}/rate-limit", "app:review", body=lambda i: {"rate_limit": 60}),
    Case("GET", "/api/v1/apps", "app:develop", list_key="", kind="light_app", outside=False),
    Case("POST", "/api/v1/apps", "app:develop", body=lambda i: APP, outside=False),
    Case("GET", "/api/v1/apps/{app_id}", "app:review"),
    Case("PATCH", "/api/v1/apps/{app_id}", _nobody, body=lambda i: {"description": "改"}),
    Case("PUT", "/api/v1/apps/{app_id}/icon", _nobody),
    Case("GET", "/api/v1/apps/{app_id}/icon", "app:review"),
    Case("POST", "/api/v1/apps/{app_id}/submit", _nobody),
    Case("POST", "/api/v1/apps/{app_id}/keys", _nobody),
    Case("POST", "/api/v1/apps/{app_id}/secret", _nobody),
    Case("GET", "/api/v1/apps/{app_id}/usage", "app:review"),
    Case("GET", "/api/v1/apps/{app_id}/webhooks", "app:review"),
    Case(
        "POST",
        "/api/v1/apps/{app_id}/webhooks",
        _nobody,
        body=lambda i: {"url": "https://matrix.example.org/hook", "topics": ["cases.reported"]},
    ),
    Case("PATCH", "/api/v1/apps/{app_id}/webhooks/{webhook_id}", _nobody, body=lambda i: {"active": False}),
    Case("DELETE", "/api/v1/apps/{app_id}/webhooks/{webhook_id}", _nobody),
    Case("GET", "/api/v1/apps/{app_id}/deliveries", "app:review"),
    Case("POST", "/api/v1/apps/{app_id}/deliveries/{delivery_id}/redeliver", _nobody),
)
PATH_PARAMS: dict[str, str] = {
    "app_id": "light_app",
    "webhook_id": "app_webhook",
    "delivery_id": "webhook_delivery",
}


def _app(session: Session, grid: Any, username: str) -> tuple[int, int, int]:
    developer = make_account(session, roles=["developer"], scope=grid, username=username)
    app = LightApp(
        name=f"矩阵应用 {username}",
        description="",
        category="data",
        entry_url="https://matrix.example.org",
        developer_id=developer.id,
        home_path=grid.path,
        requested_scopes=["region:read"],
        granted_scopes=[],
        status=AppStatus.SUBMITTED,
        rate_limit=600,
        icon=PNG,
        icon_type="image/png",
    )
    session.add(app)
    session.flush()
    hook = AppWebhook(
        app_id=app.id, url="https://matrix.example.org/hook", topics=["cases.reported"], secret_enc="x", failures=0
    )
    session.add(hook)
    session.flush()
    row = WebhookDelivery(
        webhook_id=hook.id,
        event_id=f"matrix-{app.id}",
        topic="cases.reported",
        payload={},
        status=DeliveryStatus.FAILED,
    )
    session.add(row)
    session.flush()
    return app.id, hook.id, row.id


def records(session: Session, world: World, inside: dict[str, Any], outside: dict[str, Any]) -> None:
    """A submitted app (with an icon, a webhook and a delivery) of a developer of each grid."""
    for side, grid, name in ((inside, world.grid1, "matrix-dev-in"), (outside, world.grid2, "matrix-dev-out")):
        app_id, hook_id, delivery_id = _app(session, grid, name)
        side.update(light_app=app_id, app_webhook=hook_id, webhook_delivery=delivery_id)
