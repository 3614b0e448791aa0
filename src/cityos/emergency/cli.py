"""``cityos emergency …``: each sub-package registers its commands from its ``commands.py``."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager

import typer
from sqlalchemy.orm import Session

from cityos.emergency.addressbook import commands as addressbook_commands
from cityos.emergency.campaigns import commands as campaigns_commands
from cityos.emergency.command import commands as command_commands

Work = Callable[[], AbstractContextManager[Session]]


def build(work: Work) -> typer.Typer:
    app = typer.Typer(help="应急: address book, campaigns, four-level command", no_args_is_help=True)
    for part in (addressbook_commands, campaigns_commands, command_commands):
        part.register(app, work)
    return app
