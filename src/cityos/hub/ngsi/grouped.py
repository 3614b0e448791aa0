"""Single-entity attribute writes of one group-commit batch in a few statements (合并写入).

The partial attribute update (``PATCH /entities/{id}/attrs/{attr}``), the attribute update
(``PATCH /entities/{id}/attrs``) and the attribute append (``POST /entities/{id}/attrs``) are
the hot writes of devices and dashboards. One at a time, each costs three statements (the
entity's SELECT, its UPDATE, the history INSERT) with SQLAlchemy's work around each. When the
group-commit writer (``writer.py``) holds several of them side by side in a batch, they run
here instead: one SELECT of every entity they name, each write planned in turn by the very
function of the single path (``attribute_ops``, through ``GroupRows``) in its own request's
context and against the entity as the writes before it left it, then one executemany UPDATE
(each entity once, its final state), the history rows of every change in one executemany, and
the subscriptions matched change by change as before (``changes.emit_group``).

A write that fails (no such entity, a bad fragment, a Smart Data Models violation) answers its
own error and leaves nothing: planning writes nothing, so no savepoint is needed. A failing
statement fails the transaction, and the writer runs the batch again one write at a time.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy.orm import Session

from cityos.core.errors import DomainError
from cityos.hub.ngsi import attribute_ops, changes
from cityos.hub.ngsi import service as store
from cityos.hub.ngsi.attributes import is_uri
from cityos.hub.ngsi.changes import EntityChange
from cityos.hub.ngsi.context import Context
from cityos.hub.ngsi.writer import GroupedWork

Op = Literal["patch", "update", "append"]


class GroupRows(attribute_ops.Rows):
    """The entities of a batch, read once; the operations' saves and changes are kept, per
    write, until the write succeeded, and written together by ``write``."""

    def __init__(self, session: Session, keys: Iterable[tuple[str, str]]) -> None:
        super().__init__(session)
        self._rows = store.load_many(session, keys)
        self._saved: dict[tuple[str, str], tuple[store.Stored, datetime, bool]] = {}
        self._changes: list[EntityChange] = []
        self._staged: list[tuple[store.Stored, datetime, bool]] = []
        self._staged_changes: list[EntityChange] = []

    def existing(self, tenant: str, entity_id: str) -> store.Stored:
        store.check_entity_id(entity_id)
        row = self._rows.get((tenant, entity_id))
        if row is None:
            raise store.not_found(entity_id)
        return store.Stored(row.pk, tenant, entity_id, row.type, row.data)  # the write's own copy

    def save(
        self, row: store.Stored, entity: dict[str, Any], *, attrs: Iterable[str], at: datetime, relocate: bool
    ) -> EntityChange:
        change = store.checked_change(row, entity, kind="updated", attrs=attrs, at=at)
        self._staged.append((row, at, relocate))
        return change

    def emit(self, change: EntityChange) -> None:
        self._staged_changes.append(change)

    def settle(self, ok: bool) -> None:
        """The end of one write: what it saved becomes the batch's (``ok``) or is dropped."""
        if ok:
            for row, at, relocate in self._staged:
                key = (row.tenant, row.entity_id)
                before = self._saved.get(key)
                self._rows[key] = row
                self._saved[key] = (row, at, relocate or (before is not None and before[2]))
            self._changes.extend(self._staged_changes)
        self._staged.clear()
        self._staged_changes.clear()

    def write(self) -> None:
        store.save_many(self.session, self._saved.values())
        changes.emit_group(self.session, self._changes)


@dataclass(frozen=True)
class AttrWrite(GroupedWork):
    """One attribute write of the API, as the group-commit writer runs it."""

    op: Op
    tenant: str
    entity_id: str
    body: Any
    ctx: Context
    attr: str = ""  # the path's attribute name (op "patch")
    overwrite: bool = True  # op "append": False with ``options=noOverwrite``

    def __call__(self, session: Session) -> Any:
        return self.run(session, None)

    def run(self, session: Session, rows: attribute_ops.Rows | None) -> Any:
        if self.op == "patch":
            return attribute_ops.patch_attribute(
                session,
                tenant=self.tenant,
                entity_id=self.entity_id,
                attr=self.attr,
                body=self.body,
                ctx=self.ctx,
                rows=rows,
            )
        if self.op == "update":
            return attribute_ops.update_attrs(
                session, tenant=self.tenant, entity_id=self.entity_id, body=self.body, ctx=self.ctx, rows=rows
            )
        return attribute_ops.append_attrs(
            session,
            tenant=self.tenant,
            entity_id=self.entity_id,
            body=self.body,
            ctx=self.ctx,
            overwrite=self.overwrite,
            rows=rows,
        )

    @classmethod
    def run_group(
        cls, session: Session, works: Sequence[tuple[GroupedWork, contextvars.Context]]
    ) -> list[tuple[bool, Any]]:
        writes = [(w, context) for w, context in works if isinstance(w, AttrWrite)]
        if len(writes) != len(works):
            raise TypeError("run_group takes AttrWrite only")
        rows = GroupRows(session, {(w.tenant, w.entity_id) for w, _ in writes if is_uri(w.entity_id)})
        outcomes: list[tuple[bool, Any]] = []
        for write, context in writes:
            try:
                value = context.run(write.run, session, rows)
            except DomainError as exc:
                rows.settle(False)
                outcomes.append((False, exc))
            else:
                rows.settle(True)
                outcomes.append((True, value))
        rows.write()
        return outcomes
