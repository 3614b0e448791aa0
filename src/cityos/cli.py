"""The ``cityos`` command line (typer + rich). Commands are thin: they open a unit of work
and call one service function."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.console import Console
from sqlalchemy.orm import Session

from cityos.core.db import unit_of_work
from cityos.core.runtime import Runtime
from cityos.core.settings import get_settings

app = typer.Typer(help="cityos — open city operating platform", no_args_is_help=True)
db_app = typer.Typer(help="Database schema", no_args_is_help=True)
places_app = typer.Typer(help="Region tree", no_args_is_help=True)
demo_app = typer.Typer(help="Synthetic demo city", no_args_is_help=True)
user_app = typer.Typer(help="Accounts and roles", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(places_app, name="places")
app.add_typer(demo_app, name="demo")
app.add_typer(user_app, name="user")

console = Console()


@contextmanager
def runtime() -> Iterator[Runtime]:
    rt = Runtime.create(get_settings())
    try:
        yield rt
    finally:
        rt.close()


@contextmanager
def work() -> Iterator[Session]:
    with runtime() as rt, unit_of_work(rt.session_factory) as session:
        yield session


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on"),
    port: int = typer.Option(8000, help="Port"),
    reload: bool = typer.Option(False, help="Reload on code changes (development)"),
) -> None:
    """Start the web server."""
    import uvicorn

    url = f"http://{host}:{port}/"
    console.print(f"[bold green]cityos[/] listening on [link={url}]{url}[/link]")
    _print_demo_signins()
    uvicorn.run(
        "cityos.app:create_app",
        factory=True,
        host=host,
        port=port,
        reload=reload,
        log_level="warning",
        access_log=False,
    )


def _print_demo_signins() -> None:
    try:
        from cityos.demo.accounts import DEMO_ACCOUNTS, DEMO_PASSWORD
    except ImportError:
        return
    from rich.table import Table

    table = Table(title="Demo sign-ins (password for all: " + DEMO_PASSWORD + ")")
    table.add_column("role")
    table.add_column("username")
    table.add_column("scope")
    for acc in DEMO_ACCOUNTS:
        table.add_row(acc.role, acc.username, acc.scope_hint)
    console.print(table)


@db_app.command("upgrade")
def db_upgrade(revision: str = typer.Argument("head")) -> None:
    """Apply database migrations."""
    from cityos.core import migrate

    with runtime() as rt:
        migrate.upgrade(rt.engine, revision)
    console.print(f"[green]database at {revision}[/]")


# --- demo -------------------------------------------------------------------------------------

_DEMO_STAGES = {
    "divisions": "Real districts and streets",
    "residents": "Streets: communities, grids, estates, buildings, residents",
    "departments": "Departments and responsibility list",
    "accounts": "Demo accounts",
    "index": "Spatial index",
}


@demo_app.command("generate")
def demo_generate(
    size: str = typer.Option("small", "--size", help="tiny | small | city"),
    seed: int = typer.Option(2026, "--seed", help="Random seed: the same seed gives the same city"),
    city: str = typer.Option("5101", "--city", help="City code (GB/T 2260, 4 digits); 5101 is 成都"),
    if_missing: bool = typer.Option(False, "--if-missing", help="Do nothing when a demo city already exists"),
) -> None:
    """Generate the synthetic demo city on the real districts and streets of a city."""
    from typing import cast

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
    from rich.table import Table

    from cityos.core.errors import DomainError
    from cityos.core.i18n import translate
    from cityos.demo.generator import SIZES, Size, demo_exists, generate

    if size not in SIZES:
        console.print(f"[red]--size must be one of: {', '.join(SIZES)}[/]")
        raise typer.Exit(2)
    with runtime() as rt:
        with unit_of_work(rt.session_factory) as session:
            exists = demo_exists(session)
        if exists:
            if if_missing:
                console.print("[green]demo city already present[/]")
                return
            console.print("[red]A demo city already exists in this database.[/]")
            raise typer.Exit(1)
        columns = (
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
        )
        with Progress(*columns, console=console) as bar:
            tasks: dict[str, TaskID] = {}

            def report(stage: str, done: int, total: int) -> None:
                if stage not in tasks:
                    tasks[stage] = bar.add_task(_DEMO_STAGES.get(stage, stage), total=total)
                bar.update(tasks[stage], completed=done, total=total)

            try:
                chosen = cast(Size, size)
                summary = generate(rt.session_factory, size=chosen, seed=seed, city_code=city, progress=report)
            except DomainError as exc:
                console.print(f"[red]{translate(exc.message, **exc.params)}[/]")
                for detail in exc.details:
                    console.print(f"  [red]{detail.field}[/]: {translate(detail.message, **detail.params)}")
                raise typer.Exit(1) from exc
    table = Table(title=f"Demo city ({summary.size}, seed {summary.seed}, city {summary.city_code})")
    table.add_column("what")
    table.add_column("count", justify="right")
    for level, count in summary.regions.items():
        table.add_row(f"regions: {level}", f"{count:,}")
    table.add_row("residents", f"{summary.residents:,}")
    table.add_row("households", f"{summary.households:,}")
    table.add_row("organisations", f"{summary.organisations:,}")
    table.add_row("departments", f"{summary.departments:,}")
    table.add_row("responsibilities (权责清单)", f"{summary.responsibilities:,}")
    table.add_row("demo accounts", f"{summary.accounts:,}")
    table.add_row("time", f"{summary.seconds:.1f} s")
    console.print(table)
    _print_demo_signins()


def main() -> None:
    app()


if __name__ == "__main__":
    main()
