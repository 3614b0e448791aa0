"""``cityos hub …`` commands of the device part: list the alarm rules, change one's threshold
or switch it on and off, install the shipped rules again, and list the open alarms. They act
as the system (e.g. from a duty script)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any, NoReturn

import typer
from sqlalchemy.orm import Session

from cityos.core.errors import DomainError


def _fail(exc: DomainError) -> NoReturn:
    from cityos.core.i18n import translate

    typer.echo(translate(exc.message, "en", **exc.params), err=True)
    for d in exc.details:
        typer.echo(f"{d.field}: {translate(d.message, 'en', **d.params)}", err=True)
    raise typer.Exit(1) from exc


def _value(text: str) -> Any:
    from cityos.hub.devices.rule_pages import value_of

    return value_of(text)


def register(app: typer.Typer, work: Callable[[], AbstractContextManager[Session]]) -> None:
    """Adds this part's commands to ``cityos hub``."""

    @app.command("alarm-rules")
    def list_rules() -> None:
        """Every alarm rule: id, on/off, what it watches, when it raises and the case category."""
        from cityos.core.actor import SYSTEM
        from cityos.core.i18n import translate
        from cityos.hub.devices import service

        with work() as session:
            rows = [
                (
                    r.id,
                    "on " if r.active else "off",
                    r.device_kind or "*",
                    r.profile_code or "*",
                    f"{r.attribute} {r.operator} {r.threshold}",
                    "" if r.clear_threshold is None else f"(clear {r.clear_threshold})",
                    r.category_code,
                    translate(r.name, "en"),
                    r.region_path,
                )
                for r in service.list_rules(session, SYSTEM)
            ]
        for rid, on, kind, profile, cond, clear, category, name, path in rows:
            typer.echo(f"{rid:>5} {on} {kind:<14} {profile:<16} {cond} {clear} → {category}  {name} ({path})")

    @app.command("alarm-rule-set")
    def set_rule(
        rule_id: int = typer.Argument(..., help="The rule's id (see `cityos hub alarm-rules`)"),
        threshold: str = typer.Option("", "--threshold", help="New threshold (a number, a word, true/false)"),
        clear: str = typer.Option("", "--clear", help="New clear threshold ('none' to remove it)"),
        on: bool | None = typer.Option(None, "--on/--off", help="Switch the rule on or off"),
    ) -> None:
        """Changes one rule; switching it off ends its open alarms (their cases stay)."""
        from cityos.core.actor import SYSTEM
        from cityos.hub.devices import service

        changes: dict[str, Any] = {}
        if threshold:
            changes["threshold"] = _value(threshold)
        if clear:
            changes["clear_threshold"] = None if clear.lower() == "none" else _value(clear)
        if on is not None:
            changes["active"] = on
        try:
            with work() as session:
                rule = service.update_rule(session, SYSTEM, rule_id=rule_id, **changes)
                state = "on" if rule.active else "off"
                shown = f"{rule.id} {rule.attribute} {rule.operator} {rule.threshold} ({state})"
        except DomainError as exc:
            _fail(exc)
        typer.echo(f"rule {shown}")

    @app.command("alarm-rules-install")
    def install() -> None:
        """Installs the shipped alarm rules that are missing (edited ones are left as they are)."""
        from cityos.hub.devices import service

        with work() as session:
            added = service.install_rules(session)
        typer.echo(f"{added} alarm rules installed")

    @app.command("alarms")
    def alarms(limit: int = typer.Option(100, "--limit", min=1, max=1000)) -> None:
        """The open alarms, newest first: since when, device, rule and the reading that raised it."""
        from cityos.core.actor import SYSTEM
        from cityos.core.i18n import translate
        from cityos.hub.devices import service

        with work() as session:
            rows, total = service.open_alarms(session, SYSTEM, limit=limit)
            lines = [
                (
                    a.state.since.isoformat(timespec="seconds") if a.state.since else "",
                    a.device.code,
                    translate(a.rule.name, "en"),
                    a.state.value,
                    a.state.alarm_id or "",
                )
                for a in rows
            ]
        for since, code, rule, value, alarm_id in lines:
            typer.echo(f"{since}  {code:<20} {rule} = {value}  [{alarm_id}]")
        typer.echo(f"{total} open alarms")
