"""Permission-matrix entries of hub.devices (see tests/matrix_parts/base.py)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from tests.factories import World
from tests.matrix_parts.base import Case

CASES: tuple[Case, ...] = ()
PATH_PARAMS: dict[str, str] = {}


def records(session: Session, world: World, inside: dict[str, Any], outside: dict[str, Any]) -> None:
    """This part's records inside grid 1 and outside it (filled by the part's owner)."""
