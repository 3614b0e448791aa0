"""Writing and reading the audit log (sign-ins, denials, unmasked personal-data reads)."""

from __future__ import annotations

from contextvars import ContextVar

from sqlalchemy.orm import Session

from cityos.core.actor import Actor
from cityos.core.models import AuditRecord

# Set by the request middleware so audit rows carry the request id and client address.
request_context: ContextVar[dict[str, str | None]] = ContextVar("request_context", default={})  # noqa: B039


def record(
    session: Session,
    actor: Actor | None,
    action: str,
    *,
    outcome: str = "ok",
    subject_type: str | None = None,
    subject_id: object | None = None,
    fields: list[str] | None = None,
    detail: str | None = None,
) -> AuditRecord:
    ctx = request_context.get()
    row = AuditRecord(
        account_id=actor.account_id if actor else None,
        actor_label=(actor.label if actor else "")[:128],
        action=action,
        outcome=outcome,
        subject_type=subject_type,
        subject_id=None if subject_id is None else str(subject_id),
        fields=",".join(fields) if fields else None,
        ip=ctx.get("ip"),
        request_id=ctx.get("request_id"),
        detail=detail,
    )
    session.add(row)
    session.flush()
    return row
