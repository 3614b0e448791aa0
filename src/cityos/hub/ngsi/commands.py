"""``cityos hub tenants|entities|entity|load``: the entity store from the command line."""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

import typer
from sqlalchemy.orm import Session


def register(app: typer.Typer, work: Callable[[], AbstractContextManager[Session]]) -> None:
    """Adds this part's commands to ``cityos hub``."""

    @app.command("tenants")
    def tenants_command() -> None:
        """Lists the NGSI-LD tenants and how many entities each holds."""
        from rich.console import Console
        from rich.table import Table
        from sqlalchemy import func, select

        from cityos.hub.ngsi import service as store
        from cityos.hub.ngsi.models import NgsiEntity

        with work() as session:
            names = store.list_tenants(session)
            rows = session.execute(select(NgsiEntity.tenant, func.count()).group_by(NgsiEntity.tenant)).all()
            counts = {tenant: int(count) for tenant, count in rows}
        table = Table("tenant", "entities")
        for name in names:
            table.add_row(name, str(counts.get(name, 0)))
        Console().print(table)

    @app.command("entities")
    def entities_command(
        tenant: str = typer.Option("default", "--tenant", help="NGSILD-Tenant"),
        type_: str = typer.Option("", "--type", help="List the entities of this type (term or IRI)"),
        limit: int = typer.Option(20, "--limit", min=1, max=1000),
    ) -> None:
        """Counts entities per type, or lists the entities of one type."""
        from rich.console import Console
        from rich.table import Table
        from sqlalchemy import func, select

        from cityos.hub.ngsi import service as store
        from cityos.hub.ngsi.context import default_context
        from cityos.hub.ngsi.models import NgsiEntity

        ctx = default_context()
        with work() as session:
            if not type_:
                rows = session.execute(
                    select(NgsiEntity.type, func.count())
                    .where(NgsiEntity.tenant == tenant)
                    .group_by(NgsiEntity.type)
                    .order_by(NgsiEntity.type)
                ).all()
                table = Table("type", "entities")
                for kind, count in rows:
                    table.add_row(ctx.compact(kind), str(count))
            else:
                found = store.entities_of_type(session, tenant=tenant, entity_type=type_, limit=limit, offset=0)
                table = Table("id", "modified", "attributes")
                for entity in found:
                    names = ", ".join(ctx.compact(n) for n in store.attr_names(entity))
                    table.add_row(entity["id"], entity.get("modifiedAt", ""), names)
        Console().print(table)

    @app.command("entity")
    def entity_command(
        entity_id: str = typer.Argument(..., help="The entity id (a URI)"),
        tenant: str = typer.Option("default", "--tenant", help="NGSILD-Tenant"),
    ) -> None:
        """Prints one entity as stored (expanded names, normalized attributes)."""
        from cityos.hub.ngsi import service as store

        with work() as session:
            entity = store.get_entity(session, tenant=tenant, entity_id=entity_id)
        if entity is None:
            typer.echo(f"no entity {entity_id} in tenant {tenant}", err=True)
            raise typer.Exit(1)
        typer.echo(json.dumps(entity, ensure_ascii=False, indent=2))

    @app.command("load")
    def load_command(
        file: Path = typer.Argument(..., exists=True, dir_okay=False, help="A JSON array of NGSI-LD entities"),
        tenant: str = typer.Option("default", "--tenant", help="NGSILD-Tenant"),
        context: str = typer.Option("", "--context", help="A JSON-LD context URL for the short names"),
    ) -> None:
        """Creates or replaces the entities of a JSON file (batch upsert); prints what failed."""
        from cityos.core.errors import DomainError
        from cityos.hub.ngsi import batch
        from cityos.hub.ngsi import context as ld
        from cityos.hub.ngsi.deps import tenant_name

        try:
            data = json.loads(file.read_text(encoding="utf-8"))
            name = tenant_name(tenant)
            ctx = ld.resolve(context) if context else ld.core_context()
            with work() as session:
                result = batch.upsert(session, tenant=name, data=data, ctx=ctx)
        except ValueError as exc:
            typer.echo(f"{file}: not JSON ({exc})", err=True)
            raise typer.Exit(1) from exc
        except DomainError as exc:
            typer.echo(f"refused: {exc.message}", err=True)
            raise typer.Exit(1) from exc
        typer.echo(f"{len(result.success)} entities written ({len(result.created)} new), {len(result.errors)} refused")
        for error in result.errors:
            problem = error["error"]
            typer.echo(f"  {error['entityId']}: {problem['detail']}", err=True)
        if result.errors:
            raise typer.Exit(1)
