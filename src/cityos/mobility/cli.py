"""``cityos mobility …``: each sub-package registers its commands from its ``commands.py``."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager

import typer
from sqlalchemy.orm import Session

from cityos.mobility.alerts import commands as alerts_commands
from cityos.mobility.commute import commands as commute_commands
from cityos.mobility.forecast import commands as forecast_commands
from cityos.mobility.hubs import commands as hubs_commands
from cityos.mobility.indicators import commands as indicators_commands
from cityos.mobility.ingest import commands as ingest_commands
from cityos.mobility.matching import commands as matching_commands
from cityos.mobility.monitor import commands as monitor_commands
from cityos.mobility.network import commands as network_commands
from cityos.mobility.scenario import commands as scenario_commands
from cityos.mobility.transit import commands as transit_commands

Work = Callable[[], AbstractContextManager[Session]]

PARTS = (
    network_commands,
    scenario_commands,
    ingest_commands,
    matching_commands,
    indicators_commands,
    forecast_commands,
    monitor_commands,
    alerts_commands,
    transit_commands,
    hubs_commands,
    commute_commands,
)


def build(work: Work) -> typer.Typer:
    app = typer.Typer(help="智慧出行: road network, scenarios, matching, indicators, forecasts", no_args_is_help=True)
    for part in PARTS:
        part.register(app, work)
    return app
