"""The demo devices: registered through ingest, three hours of readings through the writer, the
alarms of the last readings open (tilted cover, water on a street, the overflowing estate bin
through the community), parking occupancy fed; seeding twice adds nothing."""

from __future__ import annotations

import random

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityos.cases.models import Case
from cityos.community.property import parking
from cityos.hub.devices import demo, service
from cityos.places.devices.models import Device
from tests.hub.devices.fixtures import HubWorld, deliver


def test_the_demo_devices(session: Session, hw: HubWorld) -> None:
    demo.seed(session, city=hw.w.city, estate=hw.w.estate, rng=random.Random(7))
    session.commit()
    deliver(hw.runtime)
    session.expire_all()
    kinds = dict(
        session.execute(select(Device.kind, func.count()).where(Device.code.like("HUB-%")).group_by(Device.kind)).all()
    )
    assert kinds == {"bin": 8, "parking_spot": 12, "gate": 1, "manhole": 8, "water_level": 5, "loop_detector": 6}
    alarms, total = service.open_alarms(session, hw.officer)
    assert total == 2
    assert {a.rule.code for a in alarms} == {"manhole-tilted", "water-level-high"}
    categories = sorted(c.category_code for c in session.scalars(select(Case)))
    assert categories == ["component.01.03", "event.01.01", "event.04.04"]  # cover, estate bin, water
    occupied, spaces = parking.occupancy(session, region_path=hw.w.estate.path)
    assert spaces == 12
    assert 0 <= occupied <= 12
    assert all(d.last_seen_at is not None for d in session.scalars(select(Device).where(Device.code.like("HUB-%"))))
    demo.seed(session, city=hw.w.city, estate=hw.w.estate, rng=random.Random(7))
    assert session.scalar(select(func.count()).select_from(Device).where(Device.code.like("HUB-%"))) == 40
