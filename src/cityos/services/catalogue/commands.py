"""``cityos services …`` commands of services.catalogue: export and import the catalogue."""

from __future__ import annotations

import sys
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import NoReturn

import typer
from sqlalchemy.orm import Session

from cityos.core.actor import SYSTEM
from cityos.core.errors import DomainError
from cityos.core.i18n import translate


def register(app: typer.Typer, work: Callable[[], AbstractContextManager[Session]]) -> None:
    """Adds this sub-package's commands to ``app``."""

    @app.command("items-export")
    def items_export(
        format: str = typer.Option("json", "--format", help="json (items and bundles) or csv (items)"),
        out: Path | None = typer.Option(None, "--out", help="File to write; standard output without it"),
    ) -> None:
        """Export the service catalogue (政务服务事项)."""
        from cityos.services.catalogue import transfer

        try:
            with work() as session:
                body = transfer.export_items(session, format)
        except DomainError as exc:
            _fail(exc)
        data = body.encode("utf-8") if isinstance(body, str) else body
        if out is None:
            sys.stdout.buffer.write(data)
            sys.stdout.buffer.flush()
        else:
            out.write_bytes(data)
            typer.echo(f"wrote {out}", err=True)

    @app.command("items-import")
    def items_import(
        file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True, help="A .json or .csv file"),
        format: str | None = typer.Option(None, "--format", help="json or csv; by default from the file name"),
    ) -> None:
        """Import items (and bundles from JSON): all or nothing, every problem listed."""
        from cityos.services.catalogue import transfer

        fmt = format or ("csv" if file.suffix.lower() == ".csv" else "json")
        try:
            with work() as session:
                written = transfer.import_items(session, SYSTEM, file.read_bytes(), fmt)
        except DomainError as exc:
            _fail(exc)
        typer.echo(f"imported {written} records (added or changed)")


def _fail(exc: DomainError) -> NoReturn:
    typer.echo(translate(exc.message, **exc.params), err=True)
    for detail in exc.details:
        typer.echo(f"  {detail.field}: {translate(detail.message, **detail.params)}", err=True)
    raise typer.Exit(1)
