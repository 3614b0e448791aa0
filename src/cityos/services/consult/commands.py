"""``cityos services …`` commands of services.consult."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.orm import Session


def register(app: typer.Typer, work: Callable[[], AbstractContextManager[Session]]) -> None:
    """Adds this sub-package's commands to ``app``."""

    @app.command("consult-ask")
    def consult_ask(
        question: Annotated[str, typer.Argument(help="The question, as a resident would type it")],
        k: Annotated[int, typer.Option(min=1, max=10, help="How many answers")] = 3,
    ) -> None:
        """Search the knowledge base (掌上咨询) and print the best answers with their items."""
        from cityos.core.errors import Invalid
        from cityos.services.consult import service

        console = Console()
        with work() as session:
            try:
                hits = service.search(session, question, k)
            except Invalid as exc:
                console.print(f"[red]{exc.details[0].message.format(**exc.details[0].params)}[/]")
                raise typer.Exit(2) from exc
            _question, confidence = service.confidence(session, question)
            table = Table("#", "item", "question", "answer", "score")
            for n, hit in enumerate(hits, 1):
                item = f"{hit.item_code} {hit.item_name or ''}" if hit.item_code else "—"
                table.add_row(str(n), item, hit.article.question, hit.article.answer[:80], f"{hit.score:.2f}")
            console.print(table)
            verdict = "answered" if confidence >= service.THRESHOLD and hits else "would be passed on to staff"
            console.print(f"confidence {confidence:.2f} (threshold {service.THRESHOLD}): {verdict}")
