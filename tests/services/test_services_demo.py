"""The demo history of 一网通办 gives the statistics something to show, once."""

from __future__ import annotations

import random

from sqlalchemy.orm import Session

from cityos.core.actor import SYSTEM
from cityos.people.models import Department
from cityos.services import demo, stats
from cityos.services.catalogue import service as catalogue
from cityos.services.licences import service as licences
from cityos.workflow.calendar import seed_years
from tests.factories import make_person, make_world


def test_seed_history_once_and_the_statistics_show_it(session: Session) -> None:
    world = make_world(session)
    seed_years(session, [2025, 2026])
    licences.install(session)
    catalogue.install(session)
    district = world.district_a
    kinds = {k for item in catalogue.list_items(session, SYSTEM) for k in item.department_kinds}
    for kind in sorted(kinds):
        session.add(
            Department(
                code=f"{district.code}-{kind}", name=f"甲区{kind}", region_id=district.id, region_path=district.path
            )
        )
    for i in range(20):
        make_person(session, name=f"居民{i}", region=world.room)
    session.flush()
    made = demo.seed(session, district=district, rng=random.Random(3), count=120)
    assert made > 100
    report = stats.report(session, SYSTEM, region_id=district.id)
    totals = report.totals
    assert totals.applications == made
    assert 0 < totals.decided < totals.applications
    assert totals.rated > 0
    assert totals.zero_material > 0
    assert demo.seed(session, district=district, rng=random.Random(3), count=120) == 0  # once
