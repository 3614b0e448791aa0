"""Through the bus: the monitor's event runs the rules, the raised alert opens one case of 交通拥堵
suggested to the district's 交警大队, and a repeated event changes nothing."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from cityos.cases.models import Case
from cityos.core import bus
from cityos.mobility.alerts import reactions
from cityos.mobility.alerts.models import TrafficAlert
from cityos.mobility.events import TrafficStatesComputed
from tests.mobility.alerts.fixtures import EXPRESSWAY, NETWORK, AlertWorld, at, put_state


def _deliver(aw: AlertWorld) -> None:
    for _ in range(6):
        if aw.runtime.bus.deliver_pending() == 0:
            break


def _computed(k: int) -> TrafficStatesComputed:
    return TrafficStatesComputed(network_code=NETWORK, bin_start=at(k).isoformat(), segments=1)


def test_the_bin_event_raises_an_alert_that_opens_one_case(session: Session, aw: AlertWorld) -> None:
    for k in (0, 1):
        put_state(session, EXPRESSWAY, k, state=5)
    session.commit()
    for k in (0, 1):
        bus.publish(session, _computed(k))
        session.commit()
        _deliver(aw)
    bus.publish(session, _computed(1))  # the same bin announced again (another key)
    session.commit()
    _deliver(aw)
    session.expire_all()
    (alert,) = session.scalars(select(TrafficAlert))
    (case,) = session.scalars(select(Case).where(Case.category_code == "event.09.01"))
    assert alert.case_id == case.id
    assert alert.case_no == case.no
    assert case.external_ref == f"traffic:{alert.alert_id}"
    assert case.routing["department_id"] == aw.jj.id  # the 交警大队 answers for 道路交通运行 here
    assert case.region_path is not None
    assert case.region_path.startswith(aw.w.district_a.path)
    assert "拥堵" in case.title
    assert reactions.open_case(session, alert) == case.id  # once
    assert len(list(session.scalars(select(Case).where(Case.category_code == "event.09.01")))) == 1


def test_an_alert_outside_every_region_stands_without_a_case(session: Session, aw: AlertWorld) -> None:
    for k in (0, 1):
        put_state(session, EXPRESSWAY, k, state=5)
    from cityos.mobility.alerts import evaluate

    evaluate.evaluate(session, network_code=NETWORK, bin_start=at(0))
    evaluate.evaluate(session, network_code=NETWORK, bin_start=at(1))
    (alert,) = session.scalars(select(TrafficAlert))
    alert.lon, alert.lat = 10.0, 10.0
    assert reactions.open_case(session, alert) is None
    assert alert.case_id is None
