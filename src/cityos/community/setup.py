"""What ``cityos db upgrade`` installs for 智慧社区, and what the server runs every minute."""

from __future__ import annotations

from sqlalchemy.orm import Session

from cityos.community.access import service as access
from cityos.community.access import tasks as access_tasks
from cityos.community.commerce import service as commerce
from cityos.community.commerce import tasks as commerce_tasks
from cityos.community.dashboard import service as dashboard
from cityos.community.dashboard import tasks as dashboard_tasks
from cityos.community.governance import service as governance
from cityos.community.governance import tasks as governance_tasks
from cityos.community.property import service as property_
from cityos.community.property import tasks as property_tasks

TASKS = (access_tasks, property_tasks, commerce_tasks, governance_tasks, dashboard_tasks)


def install(session: Session) -> None:
    for part in (access, property_, commerce, governance, dashboard):
        part.install(session)


def periodic(session: Session) -> None:
    """Every minute in the server: each part's reminders and expiries."""
    for part in TASKS:
        part.periodic(session)
