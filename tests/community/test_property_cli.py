"""``cityos community bill-run``, ``property-device-add``, ``property-chase``, ``property-stats``."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from cityos.community.property.estates import set_tariff
from cityos.community.property.models import Bill
from cityos.core.actor import SYSTEM
from cityos.core.db import utcnow
from tests.factories import make_world


def test_the_commands(cli_db: str) -> None:
    from cityos.cli import app
    from cityos.core import migrate
    from cityos.core.db import make_engine

    engine = make_engine(cli_db)
    migrate.upgrade(engine)
    with Session(engine) as session:
        world = make_world(session)
        set_tariff(session, SYSTEM, estate_id=world.estate.id, values={"due_days": 0})
        estate_id, community_id = world.estate.id, world.community.id
        session.commit()
    runner = CliRunner()
    ran = runner.invoke(app, ["community", "bill-run", str(estate_id), "--kind", "property_fee"])
    assert ran.exit_code == 0, ran.output
    assert "2 new bills, 450.00 yuan; 0 already billed" in ran.output
    again = runner.invoke(app, ["community", "bill-run", str(estate_id)])
    assert "0 new bills" in again.output
    assert "2 already billed" in again.output
    bad = runner.invoke(app, ["community", "bill-run", str(estate_id), "--period", "2026-13"])
    assert bad.exit_code != 0
    made = runner.invoke(
        app,
        [
            "community",
            "property-device-add",
            str(estate_id),
            "locker",
            "CLI-LOCKER",
            "东门快递柜",
            "--compartments",
            "12",
        ],
    )
    assert made.exit_code == 0, made.output
    assert "device key (shown once): dk_" in made.output
    refused = runner.invoke(app, ["community", "property-device-add", str(estate_id), "locker", "CLI-L2", "柜"])
    assert refused.exit_code != 0
    with Session(engine) as session:
        for bill in session.scalars(select(Bill)):
            bill.due_at = utcnow() - timedelta(days=1)
        session.commit()
    chased = runner.invoke(app, ["community", "property-chase"])
    assert "bills reminded: 2" in chased.output
    shown = runner.invoke(app, ["community", "property-stats", str(community_id)])
    assert "bills_overdue: 2" in shown.output
    assert "bill_collection_rate: 0.0" in shown.output
    engine.dispose()
