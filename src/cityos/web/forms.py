"""Form pages that show a service's field errors next to the fields they belong to."""

from __future__ import annotations

from fastapi import Request
from sqlalchemy.orm import Session

from cityos.core.actor import Actor
from cityos.core.errors import DomainError
from cityos.core.i18n import translate
from cityos.web.shell import page_actor


def field_errors(exc: DomainError) -> dict[str, str]:
    """The first message for each field, in the request's language."""
    out: dict[str, str] = {}
    for d in exc.details:
        out.setdefault(d.field, translate(d.message, **d.params))
    return out


def refused(request: Request, session: Session, actor: Actor, exc: DomainError) -> dict[str, str]:
    """Undo the failed write and reload the layout, then give the field errors to show.

    An error without field details is not a form problem: it is raised again for the error page.
    """
    if not exc.details:
        raise exc
    session.rollback()
    page_actor(request, session, actor)
    return field_errors(exc)
