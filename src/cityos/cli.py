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


def main() -> None:
    app()


if __name__ == "__main__":
    main()
