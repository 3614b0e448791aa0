"""``cityos community …`` commands of community.access."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

import typer
from sqlalchemy.orm import Session


def register(app: typer.Typer, work: Callable[[], AbstractContextManager[Session]]) -> None:
    """Adds this sub-package's commands to ``app``."""

    @app.command("gate-add")
    def gate_add(
        estate_id: int = typer.Argument(..., help="The estate (小区) region id"),
        name: str = typer.Argument(..., help="The gate's name, e.g. 东门"),
        code: str = typer.Option("", help="Device code (made up when left out)"),
    ) -> None:
        """Register a gate of an estate and print its device key (shown this once)."""
        from cityos.community.access import gates
        from cityos.core.actor import SYSTEM
        from cityos.core.errors import DomainError
        from cityos.core.i18n import translate

        with work() as session:
            try:
                made = gates.register_gate(session, SYSTEM, estate_id=estate_id, name=name, code=code or None)
            except DomainError as exc:
                problems = [translate(d.message, **d.params) for d in exc.details] or [translate(exc.message)]
                raise typer.BadParameter("; ".join(problems)) from exc
            typer.echo(f"gate {made.device.id} {made.device.code} · {made.device.name}")
            typer.echo(f"device key (shown once): {made.key}")

    @app.command("join-qr")
    def join_qr(
        estate_id: int = typer.Argument(..., help="The estate (小区) region id"),
        out: Path = typer.Option(Path("join.svg"), help="Where to write the SVG"),
        base_url: str = typer.Option("", help="The platform's address (default: CITYOS_BASE_URL)"),
    ) -> None:
        """Write the estate's join QR (to print at its gates): residents scan it to get their pass."""
        from cityos.community.access import qr
        from cityos.community.access import rules as rules_
        from cityos.core.errors import NotFound
        from cityos.core.settings import get_settings

        with work() as session:
            try:
                estate = rules_.estate_by_id(session, estate_id)
            except NotFound as exc:
                raise typer.BadParameter("no such estate", param_hint="ESTATE_ID") from exc
            url = qr.join_url(base_url or get_settings().base_url, estate.id)
            out.write_text(qr.qr_svg(url, scale=8), encoding="utf-8")
        typer.echo(f"{out}: {url}")

    @app.command("pass-check")
    def pass_check(
        estate_id: int = typer.Argument(..., help="The estate (小区) region id"),
        token: str = typer.Argument(..., help="The code read from a pass's QR"),
    ) -> None:
        """Check a pass code offline the way a gate does (signature, time step, validity,
        revocations, blocked rooms); exit 1 when it is refused."""
        from cityos.community.access import gates, offline, service
        from cityos.community.access import rules as rules_
        from cityos.core.db import utcnow
        from cityos.core.i18n import translate

        with work() as session:
            estate = rules_.estate_by_id(session, estate_id)
            verdict = offline.verify_offline(
                token,
                public_key=service.estate_key(session, estate.id).public_bytes(),
                revocation=service.revocation_list(session, estate),
                now=utcnow(),
                rotation=rules_.for_estate(session, estate).rotation_seconds,
                skew_steps=service.SKEW_STEPS,
            )
        typer.echo(
            f"{'ALLOWED' if verdict.ok else 'REFUSED'} ({verdict.reason}): {translate(gates.REASONS[verdict.reason])}"
        )
        if verdict.pass_id is not None:
            typer.echo(f"pass {verdict.pass_id} · {verdict.kind} · room {verdict.room}")
        if not verdict.ok:
            raise typer.Exit(1)
