"""The demo city's 一网通办 sign-ins: a window clerk at the district's service centre, the
district's 民政局 and 交通运输局, and a demo resident who already holds registry e-licences."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from cityos.demo.generator import generate
from cityos.identity.models import Account
from cityos.people.models import Department
from cityos.services.licences import service as licences


def test_demo_has_service_accounts_and_resident_credentials(
    session_factory: sessionmaker[Session], session: Session
) -> None:
    licences.install(session)
    session.commit()
    generate(session_factory, size="tiny", traffic=False)
    accounts = {a.username: a for a in session.scalars(select(Account))}
    mzj = session.get(Department, accounts["demo-mzj"].department_id)
    jtj = session.get(Department, accounts["demo-jtj"].department_id)
    assert mzj is not None
    assert mzj.code.endswith("-mzj")
    assert jtj is not None
    assert jtj.code.endswith("-jtj")
    assert mzj.region_id == jtj.region_id == accounts["demo-window"].scope_region_id
    resident = accounts["demo-resident"]
    held = {c.kind_code for c in licences.valid_for(session, person_id=resident.person_id)}
    assert "id_card" in held
