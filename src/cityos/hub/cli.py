"""``cityos hub …``: each sub-package registers its commands from its ``commands.py``."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager

import typer
from sqlalchemy.orm import Session

from cityos.hub.apps import commands as apps_commands
from cityos.hub.catalogue import commands as catalogue_commands
from cityos.hub.devices import commands as devices_commands
from cityos.hub.ingest import commands as ingest_commands
from cityos.hub.ngsi import commands as ngsi_commands
from cityos.hub.subscriptions import commands as subscriptions_commands
from cityos.hub.temporal import commands as temporal_commands

Work = Callable[[], AbstractContextManager[Session]]

PARTS = (
    ngsi_commands,
    subscriptions_commands,
    temporal_commands,
    ingest_commands,
    devices_commands,
    catalogue_commands,
    apps_commands,
)


def build(work: Work) -> typer.Typer:
    app = typer.Typer(help="数据中台: NGSI-LD entities, IoT ingest, data catalogue, apps", no_args_is_help=True)
    for part in PARTS:
        part.register(app, work)
    return app
