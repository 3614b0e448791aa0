"""The ``cityos`` command line (typer + rich). Commands are thin: they open a unit of work
and call one service function."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import typer
from rich.console import Console
from sqlalchemy.orm import Session

from cityos.community import cli as community_cli
from cityos.core.db import unit_of_work
from cityos.core.runtime import Runtime
from cityos.core.settings import get_settings
from cityos.emergency import cli as emergency_cli
from cityos.hub import cli as hub_cli
from cityos.mobility import cli as mobility_cli
from cityos.services import cli as services_cli

app = typer.Typer(help="cityos — open city operating platform", no_args_is_help=True)
db_app = typer.Typer(help="Database schema", no_args_is_help=True)
places_app = typer.Typer(help="Region tree", no_args_is_help=True)
demo_app = typer.Typer(help="Synthetic demo city", no_args_is_help=True)
user_app = typer.Typer(help="Accounts and roles", no_args_is_help=True)
people_app = typer.Typer(help="Residents", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(places_app, name="places")
app.add_typer(demo_app, name="demo")
app.add_typer(user_app, name="user")
app.add_typer(people_app, name="people")

console = Console()


@contextmanager
def runtime() -> Iterator[Runtime]:
    from cityos.registry import subscribe_all

    rt = Runtime.create(get_settings())
    subscribe_all(rt.bus)
    try:
        yield rt
    finally:
        rt.close()


@contextmanager
def work() -> Iterator[Session]:
    with runtime() as rt, unit_of_work(rt.session_factory) as session:
        yield session


app.add_typer(services_cli.build(work), name="services")
app.add_typer(community_cli.build(work), name="community")
app.add_typer(emergency_cli.build(work), name="emergency")
app.add_typer(hub_cli.build(work), name="hub")
app.add_typer(mobility_cli.build(work), name="mobility")


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on"),
    port: int = typer.Option(8000, help="Port"),
    reload: bool = typer.Option(False, help="Reload on code changes (development)"),
    workers: int = typer.Option(
        1, min=1, max=64, help="Worker processes (one per core); one of them runs the background work"
    ),
) -> None:
    """Start the web server."""
    import os

    import uvicorn

    if reload and workers > 1:
        raise typer.BadParameter("--reload runs one process: leave out --workers", param_hint="--workers")
    os.environ["CITYOS_WORKERS"] = str(workers)  # read by each worker process's settings
    url = f"http://{host}:{port}/"
    console.print(f"[bold green]cityos[/] listening on [link={url}]{url}[/link]")
    _print_demo_signins()
    uvicorn.run(
        "cityos.app:create_app",
        factory=True,
        host=host,
        port=port,
        reload=reload,
        workers=workers,
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
    from datetime import date

    from cityos.core import migrate
    from cityos.workflow.calendar import missing_years, seed_years

    with runtime() as rt:
        migrate.upgrade(rt.engine, revision)
        if revision == "head":
            # The working-day calendar of last, this and next year, where officially published.
            with unit_of_work(rt.session_factory) as session:
                this_year = date.today().year
                loaded = seed_years(session, missing_years(session, range(this_year - 1, this_year + 2)))
                # What the modules ship (new versions only when they changed).
                from cityos.registry import install_shipped

                install_shipped(session)
    console.print(f"[green]database at {revision}[/]")
    if revision == "head" and loaded:
        console.print(f"working-day calendar loaded for {', '.join(map(str, loaded))}")


workflow_app = typer.Typer(help="Processes, time limits and the working-day calendar", no_args_is_help=True)
app.add_typer(workflow_app, name="workflow")


@workflow_app.command("seed-calendar")
def workflow_seed_calendar(year: list[int] = typer.Option(..., "--year", help="Year; repeat for several")) -> None:
    """Load official holidays and make-up working days (reloads a year already present)."""
    from cityos.workflow.calendar import seed_years

    with work() as session:
        loaded = seed_years(session, year)
    missing = sorted(set(year) - set(loaded))
    if loaded:
        console.print(f"[green]loaded[/] {', '.join(map(str, loaded))}")
    if missing:
        console.print(
            f"[yellow]no official data for {', '.join(map(str, missing))}[/]: those years count Monday to Friday"
            " until the State Council's notice is loaded (upgrade chinese-calendar, then run this again)"
        )


@workflow_app.command("run-timers")
def workflow_run_timers() -> None:
    """Fire the time limits and escalations that are due (the server does this every minute)."""
    from cityos.workflow import service

    with work() as session:
        fired = service.fire_due_timers(session)
    console.print(f"timers fired: {fired}")


# --- places -----------------------------------------------------------------------------------


def _print_invalid(exc: Exception) -> None:
    from cityos.core.errors import DomainError
    from cityos.core.i18n import translate

    if isinstance(exc, DomainError):
        console.print(f"[red]{translate(exc.message, **exc.params)}[/]")
        for d in exc.details:
            console.print(f"  [red]{d.field}[/]: {translate(d.message, **d.params)}")


@places_app.command("import-divisions")
def places_import_divisions(
    city: str = typer.Option(..., "--city", help="City code (GB/T 2260, 4 digits); 5101 is 成都"),
    divisions_dir: Path | None = typer.Option(None, "--dir", help="Folder of the divisions CSVs (default: settings)"),
) -> None:
    """Create or update a city's real districts (区/县) and streets (街道/乡镇) from the divisions CSVs."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
    from rich.table import Table

    from cityos.core.errors import DomainError
    from cityos.places.divisions import import_divisions

    folder = divisions_dir or get_settings().divisions_dir
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    try:
        with work() as session, Progress(*columns, console=console) as bar:
            task = bar.add_task(f"Importing divisions of {city}", total=None)

            def report(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            result = import_divisions(session, city_code=city, divisions_dir=folder, progress=report)
    except DomainError as exc:
        _print_invalid(exc)
        raise typer.Exit(1) from exc
    table = Table(title=f"{result.city_name} ({result.city_code}), region id {result.city_id}")
    table.add_column("level")
    table.add_column("in the CSVs", justify="right")
    table.add_column("created", justify="right")
    table.add_column("renamed", justify="right")
    for level, total in result.total.items():
        table.add_row(level, f"{total:,}", f"{result.created.get(level, 0):,}", f"{result.updated.get(level, 0):,}")
    console.print(table)
    console.print(f"done in {result.seconds:.2f} s")


@places_app.command("import-geojson")
def places_import_geojson(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="GeoJSON FeatureCollection; properties.code"),
) -> None:
    """Set the boundaries of existing regions from a GeoJSON file, matching features by properties.code."""
    import json

    from cityos.core.actor import SYSTEM
    from cityos.core.errors import DomainError
    from cityos.places import service

    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        console.print(f"[red]cannot read {file}: {exc}[/]")
        raise typer.Exit(1) from exc
    try:
        with work() as session:
            result = service.import_geometries(session, SYSTEM, data)
    except DomainError as exc:
        _print_invalid(exc)
        console.print("[red]nothing was stored[/]")
        raise typer.Exit(1) from exc
    console.print(f"[green]{result.updated:,} regions updated[/], {result.unchanged:,} unchanged")
    if result.without_code:
        console.print(f"[yellow]{result.without_code:,} features have no properties.code[/]")
    if result.unknown_codes:
        shown = ", ".join(result.unknown_codes[:20])
        more = f" … and {len(result.unknown_codes) - 20:,} more" if len(result.unknown_codes) > 20 else ""
        console.print(f"[yellow]{len(result.unknown_codes):,} unknown codes:[/] {shown}{more}")


@places_app.command("locate")
def places_locate(
    lon: float = typer.Argument(..., min=-180, max=180, help="Longitude (WGS84)"),
    lat: float = typer.Argument(..., min=-90, max=90, help="Latitude (WGS84)"),
) -> None:
    """Print the deepest region containing a point, with its ancestors."""
    from cityos.places import index, service

    with work() as session:
        region = index.locate(session, lon, lat)
        if region is None:
            console.print("[yellow]no region contains this point[/]")
            raise typer.Exit(1)
        for r in [*service.ancestors(session, region), region]:
            console.print(f"{'  ' * r.depth}{r.name}  [dim]{r.level} {r.code} (id {r.id})[/]")


@places_app.command("rebuild-cells")
def places_rebuild_cells() -> None:
    """Recompute every region's H3 cells from its geometry (after bulk imports)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from cityos.places import index

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with work() as session, Progress(*columns, console=console) as bar:
        task = bar.add_task("Covering regions with H3 cells", total=None)

        def report(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        result = index.rebuild_cells(session, progress=report)
    console.print(f"{result.regions:,} regions, {result.cells:,} cells in {result.seconds:.1f} s")


# --- users ------------------------------------------------------------------------------------


def _region_by_code(session: Session, code: str) -> int:
    from sqlalchemy import select

    from cityos.places.models import Region

    region_id = session.scalar(select(Region.id).where(Region.code == code))
    if region_id is None:
        console.print(f"[red]No region with code {code}.[/] Try: cityos places locate, or the /places pages.")
        raise typer.Exit(1)
    return int(region_id)


@user_app.command("create")
def user_create(
    username: str = typer.Option(..., "--username", help="Sign-in name (lower-case)"),
    name: str = typer.Option(..., "--name", help="Display name"),
    role: list[str] = typer.Option(..., "--role", help="Role; repeat for several"),
    scope: str = typer.Option(..., "--scope", help="Region code of the account's area, e.g. 510104"),
    password: str | None = typer.Option(None, "--password", help="Asked for (hidden) when left out"),
) -> None:
    """Create a staff account."""
    from cityos.core.actor import SYSTEM
    from cityos.core.errors import DomainError
    from cityos.identity import accounts

    if password is None:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        with work() as session:
            account = accounts.create_account(
                session,
                SYSTEM,
                username=username,
                display_name=name,
                roles=role,
                scope_region_id=_region_by_code(session, scope),
                password=password,
            )
            roles = ", ".join(sorted(role))
            console.print(f"[green]Created[/] {account.username} (id {account.id}) with roles {roles}")
    except DomainError as exc:
        _print_invalid(exc)
        raise typer.Exit(1) from exc


def _change_role(username: str, role: str, *, grant: bool) -> None:
    from cityos.core.actor import SYSTEM
    from cityos.core.errors import DomainError, NotFound
    from cityos.identity import accounts

    try:
        with work() as session:
            account = accounts.find_by_username(session, username)
            change = accounts.grant_role if grant else accounts.revoke_role
            change(session, SYSTEM, account_id=account.id, role=role)
            roles = accounts.roles_of(session, [account.id])[account.id]
            console.print(f"{account.username}: {', '.join(roles) or '(no roles)'}")
    except NotFound as exc:
        console.print(f"[red]No account named {username}.[/]")
        raise typer.Exit(1) from exc
    except DomainError as exc:
        _print_invalid(exc)
        raise typer.Exit(1) from exc


@user_app.command("grant")
def user_grant(username: str = typer.Argument(...), role: str = typer.Argument(...)) -> None:
    """Give an account a role."""
    _change_role(username, role, grant=True)


@user_app.command("revoke")
def user_revoke(username: str = typer.Argument(...), role: str = typer.Argument(...)) -> None:
    """Take a role from an account."""
    _change_role(username, role, grant=False)


@user_app.command("list")
def user_list(role: str | None = typer.Option(None, "--role", help="Only accounts with this role")) -> None:
    """Accounts with their roles and areas."""
    from rich.table import Table

    from cityos.core.actor import SYSTEM
    from cityos.core.pagination import PageParams
    from cityos.identity import accounts

    table = Table("username", "name", "roles", "area", "active")
    with work() as session:
        rows, total = accounts.list_accounts(session, SYSTEM, PageParams(page=1, size=200), role=role)
        roles = accounts.roles_of(session, [a.id for a in rows])
        for a in rows:
            area = accounts.account_links(session, a)["scope_name"]
            table.add_row(a.username or "—", a.display_name, ", ".join(roles[a.id]), area, "yes" if a.active else "no")
    console.print(table)
    console.print(f"{total or 0} accounts (first 200 shown)" if (total or 0) > 200 else f"{total or 0} accounts")


cases_app = typer.Typer(help="Cases (工单)", no_args_is_help=True)
app.add_typer(cases_app, name="cases")


@cases_app.command("classifier-report")
def cases_classifier_report() -> None:
    """Accuracy of the complaint classifier on held-out and hand-written complaints."""
    from cityos.cases import classifier

    with console.status("Training on the labelled complaints"):
        result = classifier.evaluate()
    console.print(
        f"{result.categories} categories; trained on {result.trained_on}, held out {result.tested_on}: "
        f"accuracy {result.held_out_accuracy:.1%}"
    )
    unseen = f"hand-written complaints in unseen phrasings ({result.freeform_count})"
    console.print(f"{unseen}: {result.freeform_accuracy:.1%}")


@cases_app.command("retrain")
def cases_retrain() -> None:
    """Train the classifier again with the dispatchers' category corrections (run nightly)."""
    from cityos.cases import classifier

    with work() as session, console.status("Training"):
        used = classifier.retrain(session)
    console.print(f"trained on {used} complaints")


@people_app.command("refresh-tags")
def people_refresh_tags() -> None:
    """Bring the age tags (elderly 60+, minor under 18) up to date; run daily, e.g. from cron."""
    from cityos.people import tasks

    with work() as session, console.status("Updating age tags"):
        changed = tasks.refresh_age_tags(session)
    console.print(f"Age tags added or removed: {changed:,}")


# --- demo -------------------------------------------------------------------------------------

_DEMO_STAGES = {
    "divisions": "Real districts and streets",
    "residents": "Streets: communities, grids, estates, buildings, residents",
    "departments": "Departments and responsibility list",
    "accounts": "Demo accounts",
    "index": "Spatial index",
    "services": "一网通办: past applications",
    "community": "智慧社区: passes, bills, shops, notices and votes",
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
