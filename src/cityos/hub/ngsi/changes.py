"""What the entity store tells the rest of the hub after every write, inside the same transaction.

The temporal store records each changed attribute instance; subscriptions match the change and
queue notifications (sent after the commit). The listeners are named here, resolved on first
use, so the store does not import its consumers and nothing registers at import time.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from sqlalchemy.orm import Session

ChangeKind = Literal["created", "updated", "replaced", "deleted"]


@dataclass(frozen=True)
class EntityChange:
    """One entity written by one operation.

    ``entity`` is the stored (canonical) entity after the write — expanded type and attribute
    names, normalized attributes, see ``hub/ngsi/service.py`` — or None when deleted;
    ``previous`` is the entity before (None when created); ``attrs`` the expanded names of the
    attributes written (all of them on create, replace and delete)."""

    tenant: str
    entity_id: str
    entity_type: str
    kind: ChangeKind
    attrs: frozenset[str]
    entity: dict[str, Any] | None
    previous: dict[str, Any] | None
    at: datetime
    history: bool = True  # False when the writer stores the instances itself (bulk ingest)
    extra: dict[str, Any] = field(default_factory=dict)


Listener = Callable[[Session, Sequence[EntityChange]], None]

LISTENERS: tuple[str, ...] = (
    "cityos.hub.temporal.service:record_changes",
    "cityos.hub.subscriptions.service:on_changes",
)
# Listeners that treat a list of changes exactly as they would treat its items one at a time
# (the history rows of each change, nothing across changes): ``emit_group`` hands them a whole
# batch at once. The others get one write's changes per call, as from ``emit``.
GROUPED: frozenset[str] = frozenset({"cityos.hub.temporal.service:record_changes"})
_resolved: list[Listener] | None = None
_grouped: list[Listener] = []


def _resolve(ref: str) -> Listener | None:
    module, _, name = ref.partition(":")
    fn: Listener | None = getattr(importlib.import_module(module), name, None)
    return fn


def _listeners() -> list[Listener]:
    global _resolved
    if _resolved is None:
        _grouped[:] = [fn for fn in map(_resolve, sorted(GROUPED)) if fn is not None]
        _resolved = [fn for fn in map(_resolve, LISTENERS) if fn is not None]
    return _resolved


def emit(session: Session, changes: Sequence[EntityChange]) -> None:
    """Hands a write's changes to every listener (in the writer's transaction)."""
    if not changes:
        return
    for listener in _listeners():
        listener(session, changes)


def emit_group(session: Session, changes: Sequence[EntityChange]) -> None:
    """The changes of several writes of one group-commit batch, one change per write, in order:
    the ``GROUPED`` listeners get them in one call, every other listener one write at a time,
    as ``emit`` would have given them."""
    if not changes:
        return
    for listener in _listeners():
        if listener in _grouped:
            listener(session, changes)
        else:
            for change in changes:
                listener(session, [change])
