"""``cityos community …`` commands of community.governance."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager

import typer
from sqlalchemy.orm import Session


def register(app: typer.Typer, work: Callable[[], AbstractContextManager[Session]]) -> None:
    """Adds this sub-package's commands to ``app``."""

    @app.command("governance-run")
    def governance_run() -> None:
        """Do now what the server does every minute: close the votes and surveys past their
        deadline (publishing the votes' results) and make the grid tasks of a new period."""
        from cityos.community.governance import service

        with work() as session:
            done = service.periodic_work(session)
        typer.echo(
            f"votes closed: {done['votes_closed']} · surveys closed: {done['surveys_closed']} · "
            f"grid tasks made: {done['tasks_made']}"
        )

    @app.command("vote-tally")
    def vote_tally(vote_id: int = typer.Argument(..., help="The owners' vote id")) -> None:
        """Print an owners' vote's participation against the quorum (exact fractions), and its
        result once closed."""
        from cityos.community.governance import votes
        from cityos.core.actor import SYSTEM
        from cityos.core.errors import NotFound

        with work() as session:
            try:
                d = votes.details(session, SYSTEM, vote_id)
            except NotFound as exc:
                raise typer.BadParameter("no such vote", param_hint="VOTE_ID") from exc
            t, v = d.tally, d.vote
            typer.echo(f"{v.id} {v.title} · {v.matter} · by {v.weighting} · {v.status}")
            typer.echo(
                f"owners taking part: {t.voted.rooms}/{t.total.rooms} = {t.rooms_share} "
                f"({votes.percent(t.rooms_share)})"
            )
            if t.by_area:
                typer.echo(
                    f"area taking part: {votes.area_m2(t.voted.area)}/{votes.area_m2(t.total.area)} m² = "
                    f"{t.area_share} ({votes.percent(t.area_share)})"
                )
            typer.echo(f"quorum (2/3) reached: {'yes' if t.quorum_met else 'no'}")
            if v.result is not None:
                typer.echo(votes.result_text(v, "en")[1])
