"""The demo city's 智慧社区 wiring: the community and street sign-ins, every part's demo records
for the demo estate, and a dashboard with buildings to draw."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from cityos.community.dashboard import service
from cityos.demo.generator import COMMUNITY_PARTS, generate
from cityos.identity.deps import actor_for_account
from cityos.identity.models import Account, AccountRole
from cityos.places.models import Region


def test_demo_community_sign_ins_and_seeds(session_factory: sessionmaker[Session], session: Session) -> None:
    summary = generate(session_factory, size="tiny", traffic=False)
    assert summary.community_failed == []
    assert set(summary.community_seeded) <= set(COMMUNITY_PARTS)
    accounts = {a.username: a for a in session.scalars(select(Account))}
    roles = dict(session.execute(select(AccountRole.account_id, AccountRole.role)).all())
    staff, street, prop = accounts["demo-community"], accounts["demo-street"], accounts["demo-property"]
    assert roles[staff.id] == "community_staff"
    assert roles[street.id] == "street_observer"
    community = session.get(Region, staff.scope_region_id)
    street_region = session.get(Region, street.scope_region_id)
    estate = session.get(Region, prop.scope_region_id)
    assert community is not None
    assert street_region is not None
    assert estate is not None
    assert (community.level, street_region.level, estate.level) == ("community", "street", "estate")
    assert estate.path.startswith(community.path)  # the property manager's estate lies in the community
    assert community.parent_id == street_region.id
    resident = accounts["demo-resident"]
    assert resident.scope_path == estate.path  # the demo resident lives in that estate too

    dash = service.dashboard(session, actor_for_account(session, staff))
    assert dash.people is not None
    assert dash.people.residents > 0
    assert dash.places is not None
    assert dash.places.shown == dash.places.buildings > 0
    assert all(f["properties"]["height"] >= 3 for f in dash.places.geojson["features"])
    seen = service.dashboard(session, actor_for_account(session, street), region_id=community.id)
    assert seen.people is not None
    assert seen.people.residents == dash.people.residents


def test_cli_prints_the_dashboard(cli_db: str) -> None:
    import json

    from typer.testing import CliRunner

    from cityos.cli import app

    runner = CliRunner()
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    assert runner.invoke(app, ["demo", "generate", "--size", "tiny"]).exit_code == 0
    from cityos.core.db import make_engine

    engine = make_engine(cli_db)
    try:
        with Session(engine) as session:
            community = session.scalars(select(Region).where(Region.level == "community").order_by(Region.id)).first()
            assert community is not None
            code, region_id = community.code, community.id
    finally:
        engine.dispose()
    shown = runner.invoke(app, ["community", "dashboard", code])
    assert shown.exit_code == 0, shown.output
    assert "residents" in shown.output
    as_json = runner.invoke(app, ["community", "dashboard", str(region_id), "--json"])
    assert as_json.exit_code == 0, as_json.output
    assert json.loads(as_json.output)["region"]["id"] == region_id
    missing = runner.invoke(app, ["community", "dashboard", "no-such-code"])
    assert missing.exit_code == 2
    assert "no region" in missing.output
