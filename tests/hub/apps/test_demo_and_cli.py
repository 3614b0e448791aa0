"""The demo seed (one approved app, one waiting for review; run twice, made once) and the
``cityos hub`` commands of this part."""

from __future__ import annotations

import random

from sqlalchemy.orm import Session

from cityos.hub.apps import demo, service
from cityos.hub.apps.models import AppStatus
from cityos.identity.models import OAuthClient
from tests.factories import make_account
from tests.hub.apps.fixtures import AppWorld


def test_demo_seed(session: Session, aw: AppWorld) -> None:
    assert demo.seed(session, city=aw.world.city, estate=aw.world.estate, rng=random.Random(1)) == []  # no demo-dev
    make_account(session, roles=["developer"], scope=aw.world.city, username="demo-dev")
    made = demo.seed(session, city=aw.world.city, estate=aw.world.estate, rng=random.Random(1))
    assert [a.status for a in made] == [AppStatus.APPROVED, AppStatus.SUBMITTED]
    client = session.get(OAuthClient, made[0].client_pk)
    assert client is not None
    assert client.active
    assert made[0].secret_pending is not None  # for demo-dev to collect on the portal
    assert [a.id for a in service.review_queue(session, aw.reviewer, status="submitted")] == [made[1].id]
    assert demo.seed(session, city=aw.world.city, estate=None, rng=random.Random(1)) == []  # made once


def test_commands(cli_db: str) -> None:
    from typer.testing import CliRunner

    from cityos.cli import app
    from cityos.core import migrate
    from cityos.core.actor import SYSTEM
    from cityos.core.db import make_engine
    from cityos.hub.apps import webhooks
    from tests.factories import make_world
    from tests.hub.apps.fixtures import app_input

    engine = make_engine(cli_db)
    migrate.upgrade(engine)
    with Session(engine) as session:
        world = make_world(session)
        account = make_account(session, roles=["developer"], scope=world.city, username="cli-dev")
        from cityos.identity.deps import actor_for_account

        dev = actor_for_account(session, account)
        app_row = service.create_app(session, dev, app_input())
        service.submit(session, dev, app_row.id)
        service.approve(session, SYSTEM, app_row.id, scopes=["hub:read"], region_id=world.city.id)
        webhooks.create_webhook(session, dev, app_row.id, url="http://127.0.0.1:9/none", topics=["cases.reported"])
        app_id = app_row.id
        session.commit()
    runner = CliRunner()
    listed = runner.invoke(app, ["hub", "apps", "--status", "approved"])
    assert listed.exit_code == 0, listed.output
    assert "approved" in listed.output
    assert "垃圾分类助手" in listed.output
    suspended = runner.invoke(app, ["hub", "app-suspend", str(app_id), "--reason", "night abuse"])
    assert suspended.exit_code == 0, suspended.output
    again = runner.invoke(app, ["hub", "app-suspend", str(app_id), "--reason", "x"])
    assert again.exit_code == 1
    assert "This cannot be done while the app is Suspended." in again.output
    assert runner.invoke(app, ["hub", "app-resume", str(app_id)]).exit_code == 0
    assert runner.invoke(app, ["hub", "app-resume", "999999"]).exit_code == 1
    sent = runner.invoke(app, ["hub", "webhooks-deliver"])
    assert sent.exit_code == 0, sent.output
    assert "0 delivered, 0 failed" in sent.output
    engine.dispose()
