"""``cityos community …``: each sub-package registers its commands from its ``commands.py``."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager

import typer
from sqlalchemy.orm import Session

from cityos.community.access import commands as access_commands
from cityos.community.commerce import commands as commerce_commands
from cityos.community.dashboard import commands as dashboard_commands
from cityos.community.governance import commands as governance_commands
from cityos.community.property import commands as property_commands

Work = Callable[[], AbstractContextManager[Session]]


def build(work: Work) -> typer.Typer:
    app = typer.Typer(help="智慧社区: entry passes, property, commerce, governance, dashboard", no_args_is_help=True)
    for part in (access_commands, property_commands, commerce_commands, governance_commands, dashboard_commands):
        part.register(app, work)
    return app
