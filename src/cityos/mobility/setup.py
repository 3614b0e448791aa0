"""What ``cityos db upgrade`` installs for 智慧出行, its bus handlers and what the server runs every minute."""

from __future__ import annotations

from sqlalchemy.orm import Session

from cityos.mobility.alerts import tasks as alerts_tasks
from cityos.mobility.commute import tasks as commute_tasks
from cityos.mobility.hubs import tasks as hubs_tasks
from cityos.mobility.ingest import tasks as ingest_tasks
from cityos.mobility.monitor import tasks as monitor_tasks
from cityos.mobility.scenario import tasks as scenario_tasks
from cityos.mobility.transit import tasks as transit_tasks

# Order matters every minute: the demo's live feed and fresh records are ingested and archived, then
# the monitor computes the finished bins, then the alert rules read them.
TASKS = (
    scenario_tasks,
    ingest_tasks,
    transit_tasks,
    hubs_tasks,
    commute_tasks,
    monitor_tasks,
    alerts_tasks,
)


def install(session: Session) -> None:
    for part in TASKS:
        part.install(session)


def periodic(session: Session) -> None:
    """Every minute in the server: each part's archives, computations and alert rules."""
    for part in TASKS:
        part.periodic(session)
