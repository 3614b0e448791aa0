"""What ``cityos db upgrade`` installs for 应急, and what the server runs every minute."""

from __future__ import annotations

from sqlalchemy.orm import Session

from cityos.emergency.addressbook import service as addressbook
from cityos.emergency.addressbook import tasks as addressbook_tasks
from cityos.emergency.campaigns import service as campaigns
from cityos.emergency.campaigns import tasks as campaigns_tasks
from cityos.emergency.command import service as command
from cityos.emergency.command import tasks as command_tasks

TASKS = (addressbook_tasks, campaigns_tasks, command_tasks)


def install(session: Session) -> None:
    for part in (addressbook, campaigns, command):
        part.install(session)


def periodic(session: Session) -> None:
    """Every minute in the server: each part's reminders, escalations and roll-up refreshes."""
    for part in TASKS:
        part.periodic(session)
