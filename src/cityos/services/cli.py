"""``cityos services …``: each sub-package registers its commands from its ``commands.py``."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager

import typer
from sqlalchemy.orm import Session

from cityos.services.applications import commands as applications_commands
from cityos.services.catalogue import commands as catalogue_commands
from cityos.services.consult import commands as consult_commands
from cityos.services.licences import commands as licences_commands
from cityos.services.proactive import commands as proactive_commands

Work = Callable[[], AbstractContextManager[Session]]


def build(work: Work) -> typer.Typer:
    app = typer.Typer(help="一网通办: service catalogue, e-licences, applications, consultation", no_args_is_help=True)
    for part in (catalogue_commands, licences_commands, applications_commands, consult_commands, proactive_commands):
        part.register(app, work)
    return app
