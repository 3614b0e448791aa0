"""What ``cityos db upgrade`` installs for 一网通办 (each step idempotent, in dependency order)."""

from __future__ import annotations

from sqlalchemy.orm import Session


def install(session: Session) -> None:
    from cityos.services.applications import service as applications
    from cityos.services.catalogue import service as catalogue
    from cityos.services.consult import service as consult
    from cityos.services.licences import service as licences
    from cityos.services.proactive import service as proactive

    licences.install(session)
    catalogue.install(session)
    applications.install(session)
    consult.install(session)
    proactive.install(session)
