"""``cityos mobility build-scenario`` (SUMO), ``generate-scenario`` (built-in, no SUMO), ``replay``
(a scenario folder as a live feed at N×) and ``live-feed`` (the demo city's feed, one tick)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from sqlalchemy.orm import Session

if TYPE_CHECKING:
    from cityos.mobility.scenario.generator import GeneratorConfig
    from cityos.mobility.scenario.tables import ScenarioTables


def _demand(start: str | None, hours: float, vehicles: int, noise_m: float, probe_s: int, seed: int) -> GeneratorConfig:
    from cityos.mobility.scenario.generator import GeneratorConfig

    if not 1 <= probe_s <= 600 or hours <= 0 or vehicles <= 0 or noise_m < 0:
        raise typer.BadParameter("probe period 1-600 s, positive hours and vehicles, noise >= 0")
    cfg = GeneratorConfig(
        duration_s=int(hours * 3600), vehicles=vehicles, gps_noise_m=noise_m, probe_interval_s=probe_s, seed=seed
    )
    if start:
        ts = datetime.fromisoformat(start)
        if ts.tzinfo is None:
            raise typer.BadParameter("give the start with its UTC offset, e.g. 2026-12-01T06:00+08:00")
        cfg.start = ts
    return cfg


def _summary(tables: ScenarioTables) -> None:
    for name in ("segments", "probes", "loops", "loop_counts", "edge_truth"):
        typer.echo(f"  {name}: {getattr(tables, name).height} rows")


def register(app: typer.Typer, work: Callable[[], AbstractContextManager[Session]]) -> None:
    """Adds the scenario commands to ``app`` (``work``: the database of ``--network``, ``replay``
    in-process and ``live-feed``)."""

    @app.command("build-scenario")
    def build_scenario(
        out: Path = typer.Argument(..., file_okay=False, help="Output folder (Parquet tables + sumo/ work files)"),
        rows: int = typer.Option(10),
        cols: int = typer.Option(10),
        spacing_m: float = typer.Option(250.0),
        start: str | None = typer.Option(None, help="Start, ISO with offset (default 06:00 +08:00 on the demo day)"),
        hours: float = typer.Option(14.0, help="Simulated hours (default covers both peaks)"),
        vehicles: int = typer.Option(20000),
        noise_m: float = typer.Option(8.0, help="GPS noise σ in metres"),
        probe_s: int = typer.Option(15, help="FCD sampling period, 10-30 s"),
        seed: int = typer.Option(7),
    ) -> None:
        """Build and run a SUMO scenario at the demo city (needs the scenario extra)."""
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        from cityos.core.errors import Invalid
        from cityos.mobility.scenario import sumo_builder

        cfg = sumo_builder.SumoConfig(
            rows=rows, cols=cols, spacing_m=spacing_m, demand=_demand(start, hours, vehicles, noise_m, probe_s, seed)
        )
        with Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn()) as bar:
            task = bar.add_task("starting", total=1.0)
            try:
                tables = sumo_builder.build_scenario(
                    cfg, out, lambda msg, f: bar.update(task, completed=f, description=msg)
                )
            except Invalid as exc:
                raise typer.BadParameter(exc.message) from exc
        typer.echo(f"scenario written to {out}")
        _summary(tables)

    @app.command("generate-scenario")
    def generate_scenario(
        out: Path = typer.Argument(..., file_okay=False),
        rows: int = typer.Option(10),
        cols: int = typer.Option(10),
        spacing_m: float = typer.Option(250.0),
        start: str | None = typer.Option(None, help="Start, ISO with offset, or now"),
        hours: float = typer.Option(14.0),
        vehicles: int = typer.Option(2000),
        noise_m: float = typer.Option(8.0),
        probe_s: int = typer.Option(15),
        seed: int = typer.Option(7),
        network: str | None = typer.Option(
            None, help="Drive on this imported road network (e.g. demo) instead of the built-in grid"
        ),
    ) -> None:
        """The same tables from the fast built-in generator on the built-in grid (no SUMO), or
        on an imported network (``--network``) so the scenario can be replayed into it."""
        from cityos.mobility.network.schema import grid_network
        from cityos.mobility.scenario.generator import generate

        if start == "now":  # the current 5 minutes, so loop intervals line up with the monitor's bins
            from cityos.core.db import utcnow
            from cityos.mobility.scenario.replay import floor_time

            start = floor_time(utcnow(), 300).isoformat()
        if network is not None:
            from cityos.core.errors import NotFound
            from cityos.mobility.network.service import load_segments

            with work() as session:
                try:
                    segments = load_segments(session, network)
                except NotFound as exc:
                    raise typer.BadParameter(f"road network {network!r} not found", param_hint="--network") from exc
        else:
            segments = grid_network(rows, cols, spacing_m)
        tables = generate(segments, _demand(start, hours, vehicles, noise_m, probe_s, seed))
        tables.write(out)
        typer.echo(f"scenario written to {out}")
        _summary(tables)

    _register_replay(app, work)


def _start_of(text: str, duration: timedelta, speed: float) -> datetime:
    from cityos.core.db import utcnow

    now = utcnow()
    if text == "auto":  # ends now: no record is ever ahead of the wall clock
        return now - duration + duration / speed
    if text == "now":
        return now
    try:
        ts = datetime.fromisoformat(text)
    except ValueError:
        ts = None
    if ts is None or ts.tzinfo is None:
        raise typer.BadParameter("auto, now, or an ISO time with its UTC offset", param_hint="--start")
    return ts


def _register_replay(app: typer.Typer, work: Callable[[], AbstractContextManager[Session]]) -> None:
    @app.command("replay")
    def replay_command(
        folder: Path = typer.Argument(..., help="Scenario folder (generate-scenario / build-scenario output)"),
        speed: float = typer.Option(60.0, help="Simulated seconds per real second"),
        start: str = typer.Option(
            "auto", help="auto (the replay ends now), now, or an ISO time with offset: where the scenario starts"
        ),
        url: str | None = typer.Option(None, help="Send over HTTP to this server instead of in-process"),
        token: str | None = typer.Option(None, help="Bearer token with traffic:ingest (with --url)"),
        jam: list[str] = typer.Option(
            [], "--jam", help="SEGMENT:FROM_MIN:MINUTES:FACTOR, speeds × FACTOR (0-1); repeatable"
        ),
        interval: int = typer.Option(60, help="Simulated seconds per batch (divides 300)"),
        nav: bool = typer.Option(True, help="Also send a navigation-speed feed derived from the ground truth"),
        compute: bool = typer.Option(True, help="In-process: compute the monitor's bins after each 5 minutes"),
    ) -> None:
        """Replay a scenario as a live feed at N× real time, optionally with a jam (an incident)."""
        from zoneinfo import ZoneInfo

        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        from cityos.core.errors import DomainError, NotFound
        from cityos.core.i18n import translate
        from cityos.core.settings import get_settings
        from cityos.mobility.scenario import replay
        from cityos.mobility.scenario.tables import read_scenario

        def fail(exc: DomainError) -> typer.BadParameter:
            text = "; ".join(translate(d.message, "en", **d.params) for d in exc.details) or exc.message
            return typer.BadParameter(text)

        if not folder.is_dir():
            raise typer.BadParameter(f"no scenario folder at {folder}", param_hint="FOLDER")
        if (url is None) != (token is None):
            raise typer.BadParameter("--url and --token go together", param_hint="--url")
        try:
            jams = [replay.parse_jam(j) for j in jam]
            tables = read_scenario(folder)
            duration = replay.scenario_duration(tables)
            if not 0.1 <= speed <= 100_000:
                raise typer.BadParameter("between 0.1 and 100000", param_hint="--speed")
            p = replay.plan(tables, start=_start_of(start, duration, speed), interval_s=interval, jams=jams, nav=nav)
        except NotFound as exc:
            raise typer.BadParameter(exc.message, param_hint="FOLDER") from exc
        except DomainError as exc:
            raise fail(exc) from exc
        zone = ZoneInfo(get_settings().timezone)
        total_s = (p.end - p.start).total_seconds()

        def go(sender: replay.Sender) -> replay.SendResult:
            with Progress(
                TextColumn("{task.description}"), BarColumn(), TextColumn("{task.fields[stats]}"), TimeElapsedColumn()
            ) as bar:
                task = bar.add_task("replay", total=total_s, stats="")

                def report(pr: replay.Progress) -> None:
                    r = pr.result
                    bar.update(
                        task,
                        completed=(pr.batch.due - p.start).total_seconds(),
                        description=f"{pr.batch.due.astimezone(zone):%H:%M}",
                        stats=f"sent {pr.sent}, accepted {r.accepted}, duplicates {r.duplicates}, "
                        f"quarantined {r.quarantined}",
                    )

                return replay.run(p, sender, speed=speed, on_batch=report)

        typer.echo(
            f"replaying {p.total} records, {p.start.astimezone(zone):%Y-%m-%d %H:%M} to "
            f"{p.end.astimezone(zone):%H:%M} ({zone.key}) at {speed:g}×"
        )
        try:
            if url is not None:
                import httpx

                headers = {"Authorization": f"Bearer {token}"}
                with httpx.Client(base_url=url, headers=headers, timeout=60) as client:
                    result = go(replay.HttpSender(client))
            else:
                with work() as session:
                    sender = replay.InProcessSender(session, compute=compute)
                    sender.check(tables)
                    result = go(sender)
                    sender.after_bin(p.end + timedelta(seconds=300))  # the last bins
        except replay.ReplayError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(1) from exc
        typer.echo(
            f"sent {p.total}: accepted {result.accepted}, duplicates {result.duplicates}, "
            f"quarantined {result.quarantined}"
        )
        for reason, n in sorted(result.reasons.items()):
            typer.echo(f"  {reason}: {n}")

    @app.command("live-feed")
    def live_feed() -> None:
        """Ingest the demo city's live traffic since the last run now (the server does this every minute)."""
        from cityos.mobility.scenario import live

        with work() as session:
            r = live.tick(session)
        if r is None:
            typer.echo("live feed off or up to date (it runs when the demo network is the active one)")
            return
        typer.echo(
            f"{r.start:%H:%M}-{r.end:%H:%M} UTC: sent {sum(r.sent.values())}, accepted {r.accepted}, "
            f"duplicates {r.duplicates}, quarantined {r.quarantined}"
        )
