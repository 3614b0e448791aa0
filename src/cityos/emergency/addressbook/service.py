"""Logic of emergency.addressbook: plain functions taking a session; they flush, never commit."""

from __future__ import annotations

from sqlalchemy.orm import Session


def install(session: Session) -> None:
    """Installs what this sub-package ships (idempotent); called by ``cityos db upgrade``."""
