"""Access requests (共享申请) and grants (授权).

A department (``dataset:request``) asks for a shared or restricted dataset with a purpose, the
fields it needs and a period (at most ``MAX_DAYS``). The request runs the ``data_request``
process of the workflow engine:

- shared: one approval by the owner department (``dataset:approve``) within 5 working days;
- restricted: two approvals by two different accounts, each an approver of the owner department
  or an administrator whose area holds it (5 working days for the first, 3 for the second);
- either step may refuse, with a reason; the requester may cancel while it waits.

An approval gives a grant: valid from now for the period granted, the fields granted (a subset of
those asked for) and the fields masked (by default the personal and sensitive ones). A grant is
checked on every read; revoking it or reaching ``valid_until`` stops access at once, and
``expire_grants`` (every minute) marks ended grants and tells both departments.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from cityos.core import bus
from cityos.core.actor import Actor
from cityos.core.db import utcnow
from cityos.core.errors import Conflict, FieldError, Forbidden, Invalid, NotFound
from cityos.core.i18n import N_
from cityos.core.pagination import PageParams, fetch_page
from cityos.hub.catalogue.events import DataGrantEnded, DataRequestDecided, DataRequestFiled
from cityos.hub.catalogue.models import (
    DataGrant,
    DataRequest,
    Dataset,
    DatasetClass,
    DatasetStatus,
    GrantStatus,
    RequestStatus,
)
from cityos.hub.catalogue.service import get_dataset, is_admin, owns
from cityos.workflow import service as workflow
from cityos.workflow.models import ProcessInstance

PROCESS_KEY = "data_request"
SUBJECT = "data_request"
MAX_DAYS = 365
APPROVER_ROLES = ["data_officer", "admin"]
REQUESTER_ROLES = ["department_staff", "commander", "data_officer", "admin"]

PROCESS: dict[str, Any] = {
    "key": PROCESS_KEY,
    "title": "数据共享申请",
    "initial": "pending",
    "states": {
        "pending": {
            "title": "待审批",
            "limit": {"amount": 5, "unit": "working_days"},
            "escalation": [{"after_hours": 0, "kind": "remind"}, {"after_hours": 8, "kind": "supervisor"}],
        },
        "second": {
            "title": "待复核",
            "limit": {"amount": 3, "unit": "working_days"},
            "escalation": [{"after_hours": 0, "kind": "remind"}],
        },
        "granted": {"title": "已授权", "final": True},
        "refused": {"title": "未同意", "final": True},
        "cancelled": {"title": "已撤回", "final": True},
    },
    "actions": [
        {
            "name": "approve",
            "title": "同意",
            "from": ["pending"],
            "to": "granted",
            "roles": APPROVER_ROLES,
            "when": {"field": "two_step", "equals": False},
        },
        {
            "name": "endorse",
            "title": "初审同意",
            "from": ["pending"],
            "to": "second",
            "roles": APPROVER_ROLES,
            "when": {"field": "two_step", "equals": True},
        },
        {"name": "confirm", "title": "复核同意", "from": ["second"], "to": "granted", "roles": APPROVER_ROLES},
        {
            "name": "refuse",
            "title": "不同意",
            "from": ["pending", "second"],
            "to": "refused",
            "roles": APPROVER_ROLES,
            "comment_required": True,
        },
        {"name": "cancel", "title": "撤回", "from": ["pending", "second"], "to": "cancelled", "roles": REQUESTER_ROLES},
    ],
}

MSG_OPEN = N_("An open dataset needs no request: read it directly.")
MSG_OWN = N_("This dataset belongs to your own department.")
MSG_NO_DEPARTMENT = N_("Your account belongs to no department.")
MSG_PURPOSE = N_("Say what the data is for (at least 4 characters).")
MSG_UNKNOWN_FIELD = N_("The dataset has no field {name}.")
MSG_DAYS = N_("The period is 1 to {max} days.")
MSG_DAYS_MORE = N_("The period granted may not be longer than the {days} days asked for.")
MSG_NOT_ASKED = N_("The field {name} was not asked for.")
MSG_MASK_NOT_GRANTED = N_("The masked field {name} is not among the fields granted.")
MSG_NO_FIELD_GRANTED = N_("Grant at least one field.")
MSG_PENDING = N_("Your department already has a request for this dataset waiting.")
MSG_DECIDED = N_("This request has already been decided.")
MSG_SAME_APPROVER = N_("The second approval of a restricted dataset must come from another person.")
MSG_REASON = N_("Please give a reason.")
MSG_ENDED = N_("This grant has already ended.")


def install(session: Session) -> None:
    workflow.ensure_definition(session, PROCESS)


def _ensure_process(session: Session) -> None:
    if workflow.active_definition(session, PROCESS_KEY, required=False) is None:
        install(session)


def _field_names(dataset: Dataset) -> list[str]:
    return [f["name"] for f in dataset.fields]


def default_masked(dataset: Dataset, fields: list[str]) -> list[str]:
    """The personal and sensitive fields among ``fields``: masked unless the approver unmasks them."""
    sensitive = {f["name"] for f in dataset.fields if f.get("sensitivity", "none") != "none"}
    return [name for name in fields if name in sensitive]


# --- requests ----------------------------------------------------------------------------------------


def request_access(
    session: Session,
    actor: Actor,
    code: str,
    *,
    purpose: str,
    fields: list[str] | None = None,
    days: int = 90,
    now: datetime | None = None,
) -> DataRequest:
    """Ask for a dataset for one's department; the owner department is told."""
    actor.require("dataset:request")
    dataset = get_dataset(session, actor, code)
    if dataset.access_class == DatasetClass.OPEN:
        raise Conflict(MSG_OPEN)
    if actor.department_id is None:
        raise Forbidden(MSG_NO_DEPARTMENT, params={"permission": "dataset:request"})
    if actor.department_id == dataset.department_id:
        raise Conflict(MSG_OWN)
    names = _field_names(dataset)
    wanted = list(dict.fromkeys(fields or names))
    errors: list[FieldError] = []
    if len((purpose or "").strip()) < 4:
        errors.append(FieldError("purpose", MSG_PURPOSE))
    errors += [FieldError("fields", MSG_UNKNOWN_FIELD, {"name": n}) for n in wanted if n not in names]
    if not 1 <= days <= MAX_DAYS:
        errors.append(FieldError("days", MSG_DAYS, {"max": MAX_DAYS}))
    if errors:
        raise Invalid(details=errors)
    waiting = session.scalar(
        select(DataRequest.id).where(
            DataRequest.dataset_id == dataset.id,
            DataRequest.department_id == actor.department_id,
            DataRequest.status.in_([RequestStatus.PENDING, RequestStatus.SECOND]),
        )
    )
    if waiting is not None:
        raise Conflict(MSG_PENDING)
    now = now or utcnow()
    row = DataRequest(
        dataset_id=dataset.id,
        department_id=actor.department_id,
        account_id=actor.account_id,
        purpose=purpose.strip(),
        fields=wanted,
        days=days,
        status=RequestStatus.PENDING,
        created_at=now,
    )
    session.add(row)
    session.flush()
    _ensure_process(session)
    instance = workflow.start(
        session,
        key=PROCESS_KEY,
        subject_type=SUBJECT,
        subject_id=row.id,
        by=actor,
        region_path=dataset.region_path,
        data={"two_step": dataset.access_class == DatasetClass.RESTRICTED, "dataset": dataset.code},
        now=now,
    )
    row.process_instance_id = instance.id
    session.flush()
    bus.publish(
        session,
        DataRequestFiled(request_id=row.id, dataset_code=dataset.code, owner_department_id=dataset.department_id),
    )
    return row


def _visible_requests(actor: Actor) -> Select[Any]:
    query = select(DataRequest).join(Dataset, Dataset.id == DataRequest.dataset_id)
    if is_admin(actor):
        return query.where(actor.scope_clause(Dataset.region_path))
    if actor.department_id is None:
        return query.where(DataRequest.id.is_(None))
    return query.where(
        or_(DataRequest.department_id == actor.department_id, Dataset.department_id == actor.department_id)
    )


def list_requests(
    session: Session, actor: Actor, params: PageParams, *, box: str = "all"
) -> tuple[list[DataRequest], int | None]:
    """``mine``: my department's requests; ``todo``: waiting for my department's approval."""
    if not (actor.can("dataset:request") or actor.can("dataset:approve")):
        raise Forbidden(params={"permission": "dataset:request"})
    query = _visible_requests(actor).order_by(DataRequest.created_at.desc(), DataRequest.id.desc())
    if box == "mine":
        query = query.where(DataRequest.department_id == actor.department_id)
    elif box == "todo":
        query = query.where(DataRequest.status.in_([RequestStatus.PENDING, RequestStatus.SECOND]))
        if not is_admin(actor):
            query = query.where(Dataset.department_id == actor.department_id)
    return fetch_page(session, query, params)


def get_request(session: Session, actor: Actor, request_id: int) -> DataRequest:
    if not (actor.can("dataset:request") or actor.can("dataset:approve")):
        raise Forbidden(params={"permission": "dataset:request"})
    row: DataRequest | None = session.scalar(_visible_requests(actor).where(DataRequest.id == request_id))
    if row is None:
        raise NotFound()
    return row


def _instance(session: Session, row: DataRequest) -> ProcessInstance:
    instance = session.get(ProcessInstance, row.process_instance_id) if row.process_instance_id else None
    if instance is None:
        raise NotFound()
    return instance


def state_due(session: Session, rows: list[DataRequest]) -> dict[int, datetime | None]:
    """Each request's deadline for its current step (working days, from the workflow)."""
    ids = [r.process_instance_id for r in rows if r.process_instance_id]
    if not ids:
        return {}
    due = dict(
        session.execute(
            select(ProcessInstance.id, ProcessInstance.state_due_at).where(ProcessInstance.id.in_(ids))
        ).all()
    )
    return {r.id: due.get(r.process_instance_id) for r in rows if r.process_instance_id}


def _approvable(session: Session, actor: Actor, request_id: int) -> tuple[DataRequest, Dataset]:
    row = get_request(session, actor, request_id)
    dataset = session.get(Dataset, row.dataset_id)
    assert dataset is not None
    if not actor.can("dataset:approve") or not owns(actor, dataset):
        raise Forbidden(params={"permission": "dataset:approve"})
    if row.status not in (RequestStatus.PENDING, RequestStatus.SECOND):
        raise Conflict(MSG_DECIDED)
    return row, dataset


def approve(
    session: Session,
    actor: Actor,
    request_id: int,
    *,
    fields: list[str] | None = None,
    masked: list[str] | None = None,
    days: int | None = None,
    comment: str | None = None,
    now: datetime | None = None,
) -> DataRequest:
    """Approve (the first of two steps for a restricted dataset); the last approval grants."""
    row, dataset = _approvable(session, actor, request_id)
    instance = _instance(session, row)
    proposal = (instance.data or {}).get("proposal") or {}
    granted = list(dict.fromkeys(fields if fields is not None else proposal.get("fields", row.fields)))
    period = days if days is not None else int(proposal.get("days", row.days))
    hidden = list(
        dict.fromkeys(masked if masked is not None else proposal.get("masked", default_masked(dataset, granted)))
    )
    errors: list[FieldError] = []
    if not granted:
        errors.append(FieldError("fields", MSG_NO_FIELD_GRANTED))
    errors += [FieldError("fields", MSG_NOT_ASKED, {"name": n}) for n in granted if n not in row.fields]
    errors += [FieldError("masked", MSG_MASK_NOT_GRANTED, {"name": n}) for n in hidden if n not in granted]
    if not 1 <= period <= MAX_DAYS:
        errors.append(FieldError("days", MSG_DAYS, {"max": MAX_DAYS}))
    elif period > row.days:
        errors.append(FieldError("days", MSG_DAYS_MORE, {"days": row.days}))
    if errors:
        raise Invalid(details=errors)
    now = now or utcnow()
    decision = {"fields": granted, "masked": hidden, "days": period}
    if row.status == RequestStatus.PENDING and dataset.access_class == DatasetClass.RESTRICTED:
        workflow.act(
            session, instance, action="endorse", by=actor, comment=comment, data={"proposal": decision}, now=now
        )
        row.status = RequestStatus.SECOND
        row.first_approver_id = actor.account_id
        session.flush()
        bus.publish(
            session,
            DataRequestFiled(
                request_id=row.id, dataset_code=dataset.code, owner_department_id=dataset.department_id, second=True
            ),
        )
        return row
    if row.status == RequestStatus.SECOND:
        if actor.account_id is None or actor.account_id == row.first_approver_id:
            raise Conflict(MSG_SAME_APPROVER)
        action = "confirm"
    else:
        action = "approve"
    workflow.act(session, instance, action=action, by=actor, comment=comment, data={"proposal": decision}, now=now)
    grant = DataGrant(
        dataset_id=dataset.id,
        department_id=row.department_id,
        request_id=row.id,
        fields=granted,
        masked=hidden,
        valid_from=now,
        valid_until=now + timedelta(days=period),
        status=GrantStatus.ACTIVE,
        granted_by=actor.label[:128],
        created_at=now,
    )
    session.add(grant)
    row.status = RequestStatus.GRANTED
    row.decided_by = actor.label[:128]
    row.decided_at = now
    session.flush()
    bus.publish(
        session,
        DataRequestDecided(
            request_id=row.id, dataset_code=dataset.code, department_id=row.department_id, decision="granted"
        ),
    )
    return row


def refuse(session: Session, actor: Actor, request_id: int, *, reason: str, now: datetime | None = None) -> DataRequest:
    row, dataset = _approvable(session, actor, request_id)
    text = (reason or "").strip()
    if not text:
        raise Invalid(details=[FieldError("reason", MSG_REASON)])
    now = now or utcnow()
    workflow.act(session, _instance(session, row), action="refuse", by=actor, comment=text, now=now)
    row.status = RequestStatus.REFUSED
    row.reason = text
    row.decided_by = actor.label[:128]
    row.decided_at = now
    session.flush()
    bus.publish(
        session,
        DataRequestDecided(
            request_id=row.id, dataset_code=dataset.code, department_id=row.department_id, decision="refused"
        ),
    )
    return row


def cancel(session: Session, actor: Actor, request_id: int) -> DataRequest:
    """The requesting department takes its waiting request back."""
    row = get_request(session, actor, request_id)
    if actor.department_id is None or actor.department_id != row.department_id or not actor.can("dataset:request"):
        raise Forbidden(params={"permission": "dataset:request"})
    if row.status not in (RequestStatus.PENDING, RequestStatus.SECOND):
        raise Conflict(MSG_DECIDED)
    workflow.act(session, _instance(session, row), action="cancel", by=actor)
    row.status = RequestStatus.CANCELLED
    row.decided_at = utcnow()
    session.flush()
    return row


# --- grants ------------------------------------------------------------------------------------------


def active_grant(session: Session, dataset: Dataset, department_id: int | None, now: datetime) -> DataGrant | None:
    """The department's grant valid right now (checked on every read), the latest if several."""
    if department_id is None or dataset.status != DatasetStatus.PUBLISHED:
        return None
    return session.scalar(
        select(DataGrant)
        .where(
            DataGrant.dataset_id == dataset.id,
            DataGrant.department_id == department_id,
            DataGrant.status == GrantStatus.ACTIVE,
            DataGrant.valid_from <= now,
            DataGrant.valid_until > now,
        )
        .order_by(DataGrant.valid_until.desc())
        .limit(1)
    )


def list_grants(
    session: Session, actor: Actor, params: PageParams, *, box: str = "all", dataset_code: str | None = None
) -> tuple[list[DataGrant], int | None]:
    """``held``: grants my department holds; ``given``: grants on my department's datasets."""
    if not (actor.can("dataset:request") or actor.can("dataset:approve")):
        raise Forbidden(params={"permission": "dataset:request"})
    query = select(DataGrant).join(Dataset, Dataset.id == DataGrant.dataset_id)
    if is_admin(actor):
        query = query.where(actor.scope_clause(Dataset.region_path))
    elif actor.department_id is None:
        query = query.where(DataGrant.id.is_(None))
    else:
        query = query.where(
            or_(DataGrant.department_id == actor.department_id, Dataset.department_id == actor.department_id)
        )
    if box == "held":
        query = query.where(DataGrant.department_id == actor.department_id)
    elif box == "given" and not is_admin(actor):
        query = query.where(Dataset.department_id == actor.department_id)
    if dataset_code:
        query = query.where(Dataset.code == dataset_code)
    return fetch_page(session, query.order_by(DataGrant.created_at.desc(), DataGrant.id.desc()), params)


def revoke(session: Session, actor: Actor, grant_id: int, *, reason: str, now: datetime | None = None) -> DataGrant:
    """The owner department ends a grant at once (撤销授权)."""
    actor.require("dataset:approve")
    grant = session.get(DataGrant, grant_id)
    dataset = session.get(Dataset, grant.dataset_id) if grant else None
    if grant is None or dataset is None:
        raise NotFound()
    if not owns(actor, dataset):
        if actor.department_id is not None and actor.department_id == grant.department_id:
            raise Forbidden(params={"permission": "dataset:approve"})
        raise NotFound()
    text = (reason or "").strip()
    if not text:
        raise Invalid(details=[FieldError("reason", MSG_REASON)])
    if grant.status != GrantStatus.ACTIVE:
        raise Conflict(MSG_ENDED)
    grant.status = GrantStatus.REVOKED
    grant.revoked_at = now or utcnow()
    grant.revoked_by = actor.label[:128]
    grant.revoke_reason = text
    session.flush()
    bus.publish(
        session,
        DataGrantEnded(
            grant_id=grant.id,
            dataset_code=dataset.code,
            department_id=grant.department_id,
            owner_department_id=dataset.department_id,
            reason="revoked",
        ),
    )
    return grant


def expire_grants(session: Session, *, now: datetime | None = None, limit: int = 500) -> int:
    """Mark grants past ``valid_until`` as expired and tell both departments; returns how many.
    (Reads already stop at ``valid_until``: this is the bookkeeping and the notice.)"""
    now = now or utcnow()
    rows = list(
        session.execute(
            select(DataGrant, Dataset)
            .join(Dataset, Dataset.id == DataGrant.dataset_id)
            .where(DataGrant.status == GrantStatus.ACTIVE, DataGrant.valid_until <= now)
            .order_by(DataGrant.valid_until)
            .limit(limit)
        )
    )
    for grant, dataset in rows:
        grant.status = GrantStatus.EXPIRED
        bus.publish(
            session,
            DataGrantEnded(
                grant_id=grant.id,
                dataset_code=dataset.code,
                department_id=grant.department_id,
                owner_department_id=dataset.department_id,
                reason="expired",
            ),
        )
    session.flush()
    return len(rows)
