"""Seeding the modules' parts into the demo city: each part that has a ``demo.py`` seeds its
records in its own savepoint, so one part's failure is logged and the city is still made."""

from __future__ import annotations

import importlib
import random
from collections.abc import Callable

import structlog
from sqlalchemy.orm import Session

from cityos.places.models import Region

log = structlog.get_logger(__name__)


def seed_parts(
    session: Session,
    progress: Callable[[str, int, int], None],
    package: str,
    parts: tuple[str, ...],
    seed: int,
    **where: Region | None,
) -> tuple[list[str], list[str]]:
    """Runs ``cityos.<package>.<part>.demo.seed(session, **where, rng=…)`` for each part that has
    one; returns the parts seeded and the parts that failed."""
    seeded: list[str] = []
    failed: list[str] = []
    progress(package, 0, len(parts))
    for done, part in enumerate(parts, start=1):
        name = f"cityos.{package}.{part}.demo"
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        rng = random.Random(f"{seed}-{package}-{part}")
        try:
            with session.begin_nested():
                module.seed(session, **where, rng=rng)
        except Exception as exc:  # one part's demo must not stop the city from being generated
            log.warning(f"demo.{package}_seed_failed", part=part, error=type(exc).__name__)
            failed.append(part)
        else:
            seeded.append(part)
        progress(package, done, len(parts))
    return seeded, failed
