"""Demo records of the open platform: two light apps of the demo developer (``demo-dev``), one
approved (its client active, its secret waiting on the developer portal to be collected once)
and one submitted for review. Guarded: a developer who already has apps is left as they are;
without the ``demo-dev`` account nothing is made."""

from __future__ import annotations

import random

from sqlalchemy import select
from sqlalchemy.orm import Session

from cityos.core.actor import SYSTEM
from cityos.hub.apps import service
from cityos.hub.apps.models import LightApp
from cityos.identity.deps import actor_for_account
from cityos.identity.models import Account
from cityos.places.models import Region

DEVELOPER = "demo-dev"


def seed(session: Session, *, city: Region, estate: Region | None, rng: random.Random) -> list[LightApp]:
    """The demo developer's apps (see the module); returns what was made."""
    account = session.scalar(select(Account).where(Account.username == DEVELOPER))
    if account is None:
        return []
    if session.scalar(select(LightApp.id).where(LightApp.developer_id == account.id).limit(1)) is not None:
        return []
    developer = actor_for_account(session, account)
    bins = service.create_app(
        session,
        developer,
        service.AppInput(
            name="垃圾满溢地图",
            description=f"查看{city.name}各小区垃圾桶的满溢情况，满溢时收到提醒"
            + (f"（示例：{estate.name}）。" if estate is not None else "。"),
            category="environment",
            emoji="🗑️",
            homepage_url="https://example.org/bins",
            entry_url="https://example.org/bins/app",
            requested_scopes=["hub:read", "region:read"],
        ),
    )
    service.submit(session, developer, bins.id)
    service.approve(
        session,
        SYSTEM,
        bins.id,
        scopes=["hub:read", "region:read"],
        region_id=city.id,
        rate_limit=rng.choice((300, 600, 1200)),
        note="演示应用：只读数据中台与区域。",
    )
    parking = service.create_app(
        session,
        developer,
        service.AppInput(
            name="停车诱导",
            description="根据停车位传感器实时数据，引导居民找到附近空闲车位。",
            category="mobility",
            emoji="🅿️",
            entry_url="https://example.org/parking",
            requested_scopes=["hub:read", "region:read"],
        ),
    )
    service.submit(session, developer, parking.id)
    return [bins, parking]
