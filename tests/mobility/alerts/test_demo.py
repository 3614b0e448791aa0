"""The demo seed evaluates the stored past bins once, opens the alerts' cases, and leaves the
cursor so the live handler does not raise them again."""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from cityos.cases.models import Case
from cityos.core.db import utcnow
from cityos.core.models import OutboxEvent
from cityos.mobility.alerts import demo, evaluate
from cityos.mobility.alerts.models import AlertCursor, TrafficAlert
from cityos.mobility.monitor.models import SegmentState
from tests.mobility.alerts.fixtures import BRANCH, EXPRESSWAY, NETWORK, AlertWorld


def _add(session: Session, segment: str, start, state: int) -> None:  # type: ignore[no-untyped-def]
    speed = {1: 70.0, 4: 28.0, 5: 15.0}[state]
    session.add(
        SegmentState(network_code=NETWORK, segment_id=segment, bin_start=start, speed_kmh=speed, state=state, sources=1)
    )


def test_the_demo_day_raises_its_alerts_once(session: Session, aw: AlertWorld) -> None:
    now = utcnow()
    last = now.replace(second=0, microsecond=0) - timedelta(minutes=now.minute % 5 + 10)
    bins = [last - timedelta(minutes=5 * k) for k in range(36)][::-1]  # the past 3 hours
    for i, b in enumerate(bins):
        # a morning jam (bins 6..12) that clears, and one still going at the end
        jam = 6 <= i <= 12 or i >= 33
        _add(session, EXPRESSWAY, b, 5 if jam else 1)
        _add(session, BRANCH, b, 5)  # branch roads are not watched by the shipped rules
    session.flush()
    before = session.scalar(select(OutboxEvent.id).order_by(OutboxEvent.id.desc()).limit(1)) or 0
    demo.seed(session, city=aw.w.city, rng=random.Random(1))
    alerts = list(session.scalars(select(TrafficAlert).order_by(TrafficAlert.started_at)))
    assert [(a.target_id, a.status) for a in alerts] == [(EXPRESSWAY, "cleared"), (EXPRESSWAY, "open")]
    assert all(a.case_id for a in alerts)
    cases = list(session.scalars(select(Case).where(Case.category_code == "event.09.01")))
    assert len(cases) == 2
    assert {c.routing["department_id"] for c in cases} == {aw.jj.id}
    cursor = session.get(AlertCursor, NETWORK)
    assert cursor is not None
    assert cursor.last_bin_start == last
    # No events for the past day; the live handler skips these bins.
    topics = set(session.scalars(select(OutboxEvent.topic).where(OutboxEvent.id > before)))
    assert not {t for t in topics if t.startswith("mobility.alert") or t == "mobility.guidance"}
    assert evaluate.evaluate(session, network_code=NETWORK, bin_start=last).skipped
    demo.seed(session, city=aw.w.city, rng=random.Random(1))  # again: nothing new
    assert len(list(session.scalars(select(TrafficAlert)))) == 2
    _add(session, EXPRESSWAY, last + timedelta(minutes=5), 5)
    session.flush()
    report = evaluate.evaluate(session, network_code=NETWORK, bin_start=last + timedelta(minutes=5))
    assert report.continued == [alerts[1].alert_id]
