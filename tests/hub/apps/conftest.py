"""Fixtures of the open-platform tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session

from cityos.core.actor import Actor
from cityos.hub.apps import ratelimit, webhooks
from cityos.identity.deps import actor_for_account
from cityos.places import index
from tests.factories import make_account, make_world
from tests.hub.apps.fixtures import AppWorld


def _actor(session: Session, roles: list[str], scope: object, username: str) -> Actor:
    return actor_for_account(session, make_account(session, roles=roles, scope=scope, username=username))  # type: ignore[arg-type]


@pytest.fixture(autouse=True)
def _local_receivers(monkeypatch: pytest.MonkeyPatch) -> None:
    from cityos.hub.apps import delivery

    monkeypatch.setattr(delivery, "ALLOW_LOOPBACK", True)  # the tests' receivers listen on 127.0.0.1


@pytest.fixture
def aw(session: Session) -> Iterator[AppWorld]:
    ratelimit.reset()
    webhooks.followed_topics.forget()
    world = make_world(session)
    out = AppWorld(
        world=world,
        dev=_actor(session, ["developer"], world.district_a, "dev-one"),
        dev2=_actor(session, ["developer"], world.district_a, "dev-two"),
        reviewer=_actor(session, ["admin"], world.city, "reviewer"),
        far_reviewer=_actor(session, ["admin"], world.district_b, "far-reviewer"),
        resident=_actor(session, ["resident"], world.room, "resident-one"),
    )
    index.rebuild_cells(session)  # events with a point are placed in regions
    session.commit()
    yield out
    index.invalidate()
