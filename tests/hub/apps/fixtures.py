"""Shared records of the open-platform tests: two developers, reviewers and a submitted app."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from cityos.core.actor import Actor
from cityos.hub.apps import service
from cityos.hub.apps.models import LightApp
from tests.factories import World


@dataclass
class AppWorld:
    world: World
    dev: Actor  # a developer of district A
    dev2: Actor  # another developer of district A
    reviewer: Actor  # an administrator of the city (holds app:review)
    far_reviewer: Actor  # an administrator of district B only
    resident: Actor


def app_input(**changes: object) -> service.AppInput:
    data = {
        "name": "垃圾分类助手",
        "description": "查看附近垃圾桶满溢情况",
        "category": "environment",
        "emoji": "♻️",
        "homepage_url": "https://example.org/recycle",
        "entry_url": "https://example.org/recycle/app",
        "requested_scopes": ["hub:read", "region:read"],
    }
    data.update(changes)
    return service.AppInput(**data)  # type: ignore[arg-type]


def submitted(session: Session, aw: AppWorld, **changes: object) -> LightApp:
    app = service.create_app(session, aw.dev, app_input(**changes))
    return service.submit(session, aw.dev, app.id)


def approved(session: Session, aw: AppWorld, *, rate_limit: int = 600, **changes: object) -> tuple[LightApp, str]:
    app = submitted(session, aw, **changes)
    service.approve(
        session,
        aw.reviewer,
        app.id,
        scopes=["hub:read", "region:read"],
        region_id=aw.world.district_a.id,
        rate_limit=rate_limit,
    )
    return service.collect_secret(session, aw.dev, app.id)
