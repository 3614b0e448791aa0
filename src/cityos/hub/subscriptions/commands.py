"""``cityos hub …`` commands of hub.subscriptions: list the subscriptions of a tenant with their
delivery figures, pause and resume one, and send what is due now (a run of the deliverer)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager

import typer
from sqlalchemy.orm import Session

from cityos.core.errors import DomainError


def _fail(exc: DomainError) -> None:
    from cityos.core.i18n import translate

    typer.echo(translate(exc.message, "en", **exc.params), err=True)
    for d in exc.details:
        typer.echo(f"{d.field}: {translate(d.message, 'en', **d.params)}", err=True)
    raise typer.Exit(1) from exc


def register(app: typer.Typer, work: Callable[[], AbstractContextManager[Session]]) -> None:
    """Adds this part's commands to ``cityos hub``."""

    @app.command("subscriptions")
    def list_subscriptions(tenant: str = typer.Option("default", "--tenant", help="NGSI-LD tenant")) -> None:
        """The subscriptions of a tenant: status, endpoint, sent/failed, last failure."""
        from cityos.core.actor import SYSTEM
        from cityos.hub.subscriptions import service

        with work() as session:
            rows, total = service.listing(session, SYSTEM, tenant=tenant, limit=1000, offset=0)
            lines = [
                (
                    r.subscription_id,
                    service.status_of(r),
                    r.endpoint_uri,
                    r.times_sent,
                    r.times_failed,
                    r.last_failure_reason or "",
                )
                for r in rows
            ]
        typer.echo(f"{total} subscription(s) in tenant {tenant}")
        for sid, status, uri, sent, failed, reason in lines:
            typer.echo(f"{sid}  {status:<8} {uri}  sent {sent}, failed {failed}  {reason}")

    def _set(subscription_id: str, tenant: str, active: bool) -> None:
        from cityos.core.actor import SYSTEM
        from cityos.hub.subscriptions import service

        try:
            with work() as session:
                service.set_active(session, SYSTEM, tenant=tenant, subscription_id=subscription_id, active=active)
        except DomainError as exc:
            _fail(exc)
        typer.echo(f"{subscription_id}: {'active' if active else 'paused'}")

    @app.command("subscription-pause")
    def pause(subscription_id: str, tenant: str = typer.Option("default", "--tenant")) -> None:
        """Pause a subscription (no notifications until it is resumed)."""
        _set(subscription_id, tenant, False)

    @app.command("subscription-resume")
    def resume(subscription_id: str, tenant: str = typer.Option("default", "--tenant")) -> None:
        """Resume a paused subscription."""
        _set(subscription_id, tenant, True)

    @app.command("notifications-send")
    def send(wait: float = typer.Option(6.0, "--wait", min=0.5, help="seconds to wait for the answers")) -> None:
        """Send what is due now (expiry, periodic notifications, due retries) and report."""
        from sqlalchemy.orm import sessionmaker

        from cityos.hub.subscriptions import service
        from cityos.hub.subscriptions.delivery import Deliverer

        with work() as session:
            service.expire(session)
            service.prune(session)
            bind = session.get_bind()
        # the deliverer's sessions on the same database (a test's connection: savepoints)
        factory = sessionmaker(bind=bind, expire_on_commit=False, join_transaction_mode="create_savepoint")
        claimed = Deliverer(factory).run_once(wait)
        typer.echo(f"{claimed} notification(s) sent")
