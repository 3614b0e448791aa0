"""The ``aw`` fixture of the alerts tests (see fixtures.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session

from cityos.cases import processes
from cityos.cases import service as cases
from cityos.core.runtime import Runtime
from cityos.identity.deps import actor_for_account
from cityos.mobility.alerts import evaluate
from cityos.mobility.alerts import tasks as alerts_tasks
from cityos.mobility.network.schema import grid_network
from cityos.mobility.network.service import save_segments
from cityos.people.models import Department, Responsibility
from cityos.places import index
from cityos.registry import subscribe_all
from cityos.workflow.calendar import seed_years
from tests.factories import make_account, make_world
from tests.mobility.alerts.fixtures import NETWORK, AlertWorld


@pytest.fixture(autouse=True)
def _fresh_caches() -> Iterator[None]:
    evaluate.forget()
    yield
    evaluate.forget()


@pytest.fixture
def aw(session: Session, runtime: Runtime) -> Iterator[AlertWorld]:
    subscribe_all(runtime.bus)
    w = make_world(session)
    index.rebuild_cells(session)
    cases.install_categories(session)
    processes.install(session)
    seed_years(session, [2026])
    alerts_tasks.install(session)
    jj = Department(code="a-jj", name="甲区交警大队", region_id=w.district_a.id, region_path=w.district_a.path)
    session.add(jj)
    session.flush()
    session.add(
        Responsibility(
            department_id=jj.id, case_category="event.09", region_id=w.district_a.id, region_path=w.district_a.path
        )
    )
    # A 5 × 5 grid of 300 m inside district A (104.0–104.1, 30.0–30.1).
    save_segments(session, NETWORK, grid_network(centre_lon=104.03, centre_lat=30.05), name="test grid")
    operator = make_account(session, roles=["traffic_operator"], scope=w.city, username="tocc-op")
    reader = make_account(session, roles=["department_staff"], scope=w.district_a, username="jj-staff")
    reader.department_id = jj.id
    session.commit()
    yield AlertWorld(
        w, runtime, actor_for_account(session, operator), operator.id, actor_for_account(session, reader), reader.id, jj
    )
    index.invalidate()
