"""``cityos services …`` commands of services.licences."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager

import typer
from sqlalchemy.orm import Session


def register(app: typer.Typer, work: Callable[[], AbstractContextManager[Session]]) -> None:
    """Adds this sub-package's commands to ``app``."""

    @app.command("credential-verify")
    def credential_verify(
        token: str = typer.Argument(..., help="The code from a credential's QR, or a credential number"),
    ) -> None:
        """验证电子证照: check a presentation code or a credential number; exit 1 when not valid."""
        from cityos.core.errors import Invalid
        from cityos.core.i18n import translate
        from cityos.services.licences import service

        with work() as session:
            try:
                result = service.verify(session, token)
            except Invalid as exc:
                raise typer.BadParameter(translate(exc.details[0].message), param_hint="TOKEN") from exc
        typer.echo(
            f"{'VALID' if result.valid else 'NOT VALID'} ({result.reason}): {translate(service.REASONS[result.reason])}"
        )
        if result.kind_name:
            expires = result.expires_at.strftime("%Y-%m-%d") if result.expires_at else "-"
            typer.echo(f"{result.kind_name} {result.no} · {result.holder_name} · {result.issuer_name or '-'}")
            typer.echo(f"issued {result.issued_at:%Y-%m-%d} · valid until {expires}" if result.issued_at else "")
        if not result.valid:
            raise typer.Exit(1)
