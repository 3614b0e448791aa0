"""The ``hw`` fixture of the hub's device tests (see fixtures.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session

from cityos.cases import processes
from cityos.cases import service as cases
from cityos.core.runtime import Runtime
from cityos.hub.devices import tasks as devices_tasks
from cityos.hub.ingest import tasks as ingest_tasks
from cityos.identity.deps import actor_for_account
from cityos.places import index
from cityos.registry import subscribe_all
from tests.factories import make_account, make_world
from tests.hub.devices.fixtures import HubWorld


@pytest.fixture
def hw(session: Session, runtime: Runtime) -> Iterator[HubWorld]:
    subscribe_all(runtime.bus)
    w = make_world(session)
    index.rebuild_cells(session)
    cases.install_categories(session)
    processes.install(session)
    ingest_tasks.install(session)
    devices_tasks.install(session)
    officer = make_account(session, roles=["data_officer"], scope=w.city)
    other = make_account(session, roles=["data_officer"], scope=w.district_b)
    session.commit()
    yield HubWorld(
        w, runtime, actor_for_account(session, officer), officer.id, actor_for_account(session, other), other.id
    )
    index.invalidate()
