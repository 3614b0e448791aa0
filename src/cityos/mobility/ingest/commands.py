"""``cityos mobility ingest FILE --source …`` (CSV, JSON lines or Parquet, batches of 5,000, one
transaction each) and ``cityos mobility archive [--day]``. They act as the system."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import typer
from sqlalchemy.orm import Session

from .models import SOURCES


def read_records(path: Path, batch: int) -> tuple[int, Iterator[list[Any]]]:
    """(number of records, their batches). CSV values stay text (the validation parses them);
    a JSON line that does not parse is passed on as text and quarantined as ``bad_record``."""
    import polars as pl

    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson", ".json"):
        lines = [ln for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]
        records: list[Any] = []
        for ln in lines:
            try:
                records.append(json.loads(ln))
            except ValueError:
                records.append(ln)
    elif suffix == ".parquet":
        records = pl.read_parquet(path).to_dicts()
    elif suffix in (".csv", ".txt"):
        records = pl.read_csv(path, infer_schema=False).to_dicts()
    else:
        raise typer.BadParameter("use a .csv, .jsonl or .parquet file", param_hint="FILE")
    return len(records), (records[i : i + batch] for i in range(0, len(records), batch))


def register(app: typer.Typer, work: Callable[[], AbstractContextManager[Session]]) -> None:
    """Adds this part's commands to ``cityos mobility``."""

    @app.command("ingest")
    def ingest_file(
        file: Path = typer.Argument(..., exists=True, dir_okay=False, help="CSV, JSON lines or Parquet"),
        source: str = typer.Option(..., "--source", help="loop | probe | bus | nav | video"),
        network: str | None = typer.Option(None, "--network", help="Road network code (default: the newest)"),
        batch_ref: str | None = typer.Option(None, "--batch-ref", help="Kept with quarantined records"),
    ) -> None:
        """Ingest a feed file through the same validation as the HTTP feed."""
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        from cityos.core.actor import SYSTEM
        from cityos.core.errors import DomainError
        from cityos.mobility.ingest import service

        if source not in SOURCES:
            raise typer.BadParameter(f"use one of {', '.join(SOURCES)}", param_hint="--source")
        total, batches = read_records(file, service.MAX_RECORDS)
        report = service.IngestReport()
        done = 0
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()) as bar:
            task = bar.add_task(f"{source} ← {file.name}", total=total)
            for records in batches:
                try:
                    with work() as session:
                        part = service.ingest(
                            session,
                            SYSTEM,
                            source=source,
                            records=records,
                            batch_ref=batch_ref or file.name[:64],
                            network_code=network,
                        )
                except DomainError as exc:
                    typer.echo(f"refused: {exc.message}", err=True)
                    raise typer.Exit(1) from exc
                report.add(part, offset=done)
                done += len(records)
                bar.update(task, completed=done)
        typer.echo(
            f"{total} records: {report.accepted} accepted, {report.duplicates} duplicates, "
            f"{report.quarantined} quarantined"
        )
        for reason, n in sorted(report.reasons.items()):
            typer.echo(f"  {reason}: {n}")

    @app.command("archive")
    def archive_cmd(
        day: str | None = typer.Option(None, "--day", help="Local day YYYY-MM-DD (default: yesterday)"),
        purge: bool = typer.Option(False, "--purge", help="Then delete verified rows past the retention"),
    ) -> None:
        """Write the day's Parquet archive of the five feed tables (idempotent)."""
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        from cityos.core.db import utcnow
        from cityos.core.settings import get_settings
        from cityos.mobility.ingest import archive

        settings = get_settings()
        zone = settings.timezone
        today = archive.local_day(utcnow(), zone)
        try:
            the_day = date.fromisoformat(day) if day else today - timedelta(days=1)
        except ValueError as exc:
            raise typer.BadParameter("use YYYY-MM-DD", param_hint="--day") from exc
        with work() as session, Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn()) as bar:
            task = bar.add_task(f"archive {the_day.isoformat()}", total=len(archive.TABLES) * (2 if purge else 1))
            try:
                results = archive.archive_day(
                    session,
                    archive_dir=settings.archive_dir,
                    day=the_day,
                    zone=zone,
                    progress=lambda _t: bar.advance(task),
                )
                purged = (
                    archive.purge(
                        session,
                        archive_dir=settings.archive_dir,
                        today=today,
                        zone=zone,
                        progress=lambda _t: bar.advance(task),
                    )
                    if purge
                    else []
                )
            except archive.ArchiveError as exc:
                typer.echo(f"archive failed: {exc}", err=True)
                raise typer.Exit(1) from exc
        for r in results:
            typer.echo(f"  {r.table}: {r.rows} rows{' (written)' if r.written else ''}")
        for p in purged:
            typer.echo(f"  purged {p.table} {p.day.isoformat()}: {p.purged} rows")
        typer.echo(f"archive of {the_day.isoformat()} in {settings.archive_dir / 'mobility'}")
