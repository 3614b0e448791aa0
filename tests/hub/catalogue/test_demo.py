"""The demo seed: datasets of each class, an approved request with masked fields, a restricted
request waiting for its second approval, reads in the log (and the chain intact)."""

from __future__ import annotations

import random

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityos.core.settings import Settings
from cityos.hub.catalogue import demo, readlog, records
from cityos.hub.catalogue.models import DataGrant, DataRequest, Dataset, ReadLogEntry
from cityos.people.models import Department
from tests.factories import make_actor, make_world


def test_demo_seed(session: Session, settings: Settings) -> None:
    world = make_world(session)
    owner = Department(
        code="D1-cgj", name="甲区城市管理局", region_id=world.district_a.id, region_path=world.district_a.path
    )
    other = Department(
        code="D1-mzj", name="甲区民政局", region_id=world.district_a.id, region_path=world.district_a.path
    )
    session.add_all([owner, other])
    session.flush()
    demo.seed(session, city=world.city, estate=None, rng=random.Random(7), upload_dir=settings.upload_dir)
    classes = dict(session.execute(select(Dataset.code, Dataset.access_class)).all())
    assert classes == {
        "cg.devices": "open",
        "cg.cases": "shared",
        "cg.waste-containers": "shared",
        "cg.street-vendors": "restricted",
    }
    grant = session.scalar(select(DataGrant))
    assert grant is not None
    assert sorted(grant.masked) == ["address", "reporter_label"]
    statuses = sorted(session.scalars(select(DataRequest.status)))
    assert statuses == ["granted", "second"]
    assert (session.scalar(select(func.count()).select_from(ReadLogEntry)) or 0) >= 1
    assert readlog.verify_chain(session).ok
    staff = make_actor(session, roles=["department_staff"], scope=world.city, department_id=other.id)
    assert records.read_records(session, staff, "cg.cases").access.masked == {"address", "reporter_label"}
    demo.seed(session, city=world.city, estate=None, rng=random.Random(7), upload_dir=settings.upload_dir)
    assert session.scalar(select(func.count()).select_from(Dataset)) == 4  # idempotent
