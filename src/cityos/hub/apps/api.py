"""JSON routes of the open platform: a developer's light apps (keys, icon, webhooks, deliveries,
usage), the reviewers' queue and decisions, and the catalogue of approved apps."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from cityos.core.http import DbSession
from cityos.core.i18n import translate
from cityos.hub.apps import service, webhooks
from cityos.hub.apps.models import AppWebhook, LightApp, WebhookDelivery
from cityos.hub.apps.schemas import (
    AppCreate,
    AppKeys,
    AppRead,
    ApproveIn,
    AppUpdate,
    CatalogueEntry,
    DeliveryRead,
    RateLimitIn,
    ReasonIn,
    TopicRead,
    UsageDay,
    WebhookCreate,
    WebhookCreated,
    WebhookRead,
    WebhookUpdate,
)
from cityos.identity.deps import CurrentActor

router = APIRouter(prefix="/api/v1/apps", tags=["apps"])


def app_read(app: LightApp) -> AppRead:
    read = AppRead.model_validate(app)
    read.has_icon = app.icon_type is not None
    return read


def _keys(app: LightApp, secret: str) -> AppKeys:
    return AppKeys(app=app_read(app), client_id=app.client_id or "", client_secret=secret)


def _input(body: AppCreate | AppUpdate) -> service.AppInput:
    data = body.model_dump(exclude_unset=True)
    return service.AppInput(**data)


# --- static paths first ------------------------------------------------------------------------------------


@router.get("/topics", response_model=list[TopicRead])
def topics(actor: CurrentActor) -> list[TopicRead]:
    """The event topics a webhook may subscribe to."""
    return [TopicRead(topic=k, title=translate(t.title), scope=t.scope) for k, t in webhooks.TOPICS.items()]


@router.get("/catalogue", response_model=list[CatalogueEntry])
def catalogue(
    session: DbSession, actor: CurrentActor, category: Annotated[str | None, Query(max_length=32)] = None
) -> list[CatalogueEntry]:
    """Approved apps for the caller to open (应用广场)."""
    return [
        CatalogueEntry(
            id=a.id,
            name=a.name,
            description=a.description,
            category=a.category,
            category_title=translate(service.CATEGORIES.get(a.category, a.category)),
            emoji=a.emoji,
            icon_url=f"/api/v1/apps/{a.id}/icon" if a.icon_type else None,
            entry_url=a.entry_url,
            homepage_url=a.homepage_url,
        )
        for a in service.catalogue(session, actor, category=category)
    ]


@router.get("/review", response_model=list[AppRead])
def review_queue(
    session: DbSession, actor: CurrentActor, status: Annotated[str | None, Query(max_length=16)] = None
) -> list[AppRead]:
    return [app_read(a) for a in service.review_queue(session, actor, status=status)]


@router.post("/review/{app_id}/approve", response_model=AppRead)
def approve(app_id: int, body: ApproveIn, session: DbSession, actor: CurrentActor) -> AppRead:
    """Approve: the app's OAuth2 client is created (its developer collects the secret)."""
    app = service.approve(
        session,
        actor,
        app_id,
        scopes=body.scopes,
        region_id=body.region_id,
        rate_limit=body.rate_limit,
        note=body.note,
    )
    return app_read(app)


@router.post("/review/{app_id}/reject", response_model=AppRead)
def reject(app_id: int, body: ReasonIn, session: DbSession, actor: CurrentActor) -> AppRead:
    return app_read(service.reject(session, actor, app_id, reason=body.reason))


@router.post("/review/{app_id}/suspend", response_model=AppRead)
def suspend(app_id: int, body: ReasonIn, session: DbSession, actor: CurrentActor) -> AppRead:
    return app_read(service.suspend(session, actor, app_id, reason=body.reason))


@router.post("/review/{app_id}/resume", response_model=AppRead)
def resume(app_id: int, session: DbSession, actor: CurrentActor) -> AppRead:
    return app_read(service.resume(session, actor, app_id))


@router.put("/review/{app_id}/rate-limit", response_model=AppRead)
def set_rate_limit(app_id: int, body: RateLimitIn, session: DbSession, actor: CurrentActor) -> AppRead:
    return app_read(service.set_rate_limit(session, actor, app_id, rate_limit=body.rate_limit))


# --- one's own apps ------------------------------------------------------------------------------------------


@router.get("", response_model=list[AppRead])
def my_apps(session: DbSession, actor: CurrentActor) -> list[AppRead]:
    return [app_read(a) for a in service.my_apps(session, actor)]


@router.post("", response_model=AppRead, status_code=201)
def create_app(body: AppCreate, session: DbSession, actor: CurrentActor) -> AppRead:
    return app_read(service.create_app(session, actor, _input(body)))


@router.get("/{app_id}", response_model=AppRead)
def get_app(app_id: int, session: DbSession, actor: CurrentActor) -> AppRead:
    return app_read(service.get_app(session, actor, app_id))


@router.patch("/{app_id}", response_model=AppRead)
def update_app(app_id: int, body: AppUpdate, session: DbSession, actor: CurrentActor) -> AppRead:
    return app_read(service.update_app(session, actor, app_id, _input(body)))


@router.put("/{app_id}/icon", response_model=AppRead)
async def upload_icon(app_id: int, request: Request, session: DbSession, actor: CurrentActor) -> AppRead:
    """The icon as the request body (``Content-Type: image/png``, ``image/jpeg`` or ``image/gif``,
    at most 64 KB); the type is read from the bytes."""
    service.get_own(session, actor, app_id)  # 404 before reading someone else's upload
    content = b""
    async for chunk in request.stream():
        content += chunk
        if len(content) > service.ICON_MAX_BYTES:
            break
    return app_read(service.set_icon(session, actor, app_id, content))


@router.get("/{app_id}/icon")
def icon(app_id: int, session: DbSession, actor: CurrentActor) -> Response:
    content, media_type = service.icon_of(session, actor, app_id)
    return Response(content, media_type=media_type, headers={"Cache-Control": "private, max-age=300"})


@router.post("/{app_id}/submit", response_model=AppRead)
def submit(app_id: int, session: DbSession, actor: CurrentActor) -> AppRead:
    return app_read(service.submit(session, actor, app_id))


@router.post("/{app_id}/keys", response_model=AppKeys)
def collect_keys(app_id: int, session: DbSession, actor: CurrentActor) -> AppKeys:
    """The client id and the secret made at approval, once (then 409: rotate for a new one)."""
    app, secret = service.collect_secret(session, actor, app_id)
    return _keys(app, secret)


@router.post("/{app_id}/secret", response_model=AppKeys)
def rotate_secret(app_id: int, session: DbSession, actor: CurrentActor) -> AppKeys:
    """A new client secret, shown in this answer only; the old one stops working."""
    app, secret = service.rotate_secret(session, actor, app_id)
    return _keys(app, secret)


@router.get("/{app_id}/usage", response_model=list[UsageDay])
def usage(
    app_id: int, session: DbSession, actor: CurrentActor, days: Annotated[int, Query(ge=1, le=90)] = 14
) -> list[UsageDay]:
    return [UsageDay(day=d, requests=r, limited=n) for d, r, n in service.usage(session, actor, app_id, days=days)]


# --- webhooks and deliveries ---------------------------------------------------------------------------------


def _hook(hook: AppWebhook) -> WebhookRead:
    return WebhookRead.model_validate(hook)


@router.get("/{app_id}/webhooks", response_model=list[WebhookRead])
def list_webhooks(app_id: int, session: DbSession, actor: CurrentActor) -> list[WebhookRead]:
    return [_hook(h) for h in webhooks.webhooks(session, actor, app_id)]


@router.post("/{app_id}/webhooks", response_model=WebhookCreated, status_code=201)
def create_webhook(app_id: int, body: WebhookCreate, session: DbSession, actor: CurrentActor) -> WebhookCreated:
    hook, secret = webhooks.create_webhook(session, actor, app_id, url=body.url, topics=body.topics, secret=body.secret)
    return WebhookCreated(webhook=_hook(hook), secret=secret)


@router.patch("/{app_id}/webhooks/{webhook_id}", response_model=WebhookRead)
def update_webhook(
    app_id: int, webhook_id: int, body: WebhookUpdate, session: DbSession, actor: CurrentActor
) -> WebhookRead:
    hook = webhooks.update_webhook(
        session, actor, app_id, webhook_id, url=body.url, topics=body.topics, active=body.active
    )
    return _hook(hook)


@router.delete("/{app_id}/webhooks/{webhook_id}", status_code=204)
def delete_webhook(app_id: int, webhook_id: int, session: DbSession, actor: CurrentActor) -> Response:
    webhooks.delete_webhook(session, actor, app_id, webhook_id)
    return Response(status_code=204)


def _delivery(row: WebhookDelivery) -> DeliveryRead:
    return DeliveryRead.model_validate(row)


@router.get("/{app_id}/deliveries", response_model=list[DeliveryRead])
def deliveries(
    app_id: int,
    session: DbSession,
    actor: CurrentActor,
    status: Annotated[str | None, Query(max_length=16)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[DeliveryRead]:
    return [_delivery(d) for d in webhooks.deliveries(session, actor, app_id, status=status, limit=limit)]


@router.post("/{app_id}/deliveries/{delivery_id}/redeliver", response_model=DeliveryRead)
def redeliver(app_id: int, delivery_id: int, session: DbSession, actor: CurrentActor) -> DeliveryRead:
    return _delivery(webhooks.redeliver(session, actor, app_id, delivery_id))
