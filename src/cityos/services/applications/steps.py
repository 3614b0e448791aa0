"""Department steps on an application — 受理, 审批 (each department in parallel approval), 不予许可,
补正 with 一次性告知 — and 好差评. Split from ``service.py`` and ``submission.py``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from cityos.core import bus
from cityos.core.actor import Actor
from cityos.core.db import utcnow
from cityos.core.errors import Conflict, FieldError, Forbidden, Invalid
from cityos.services.applications import schemaform
from cityos.services.applications.events import (
    ApplicationBadlyRated,
    ApplicationSubmitted,
    SupplementRequested,
)
from cityos.services.applications.models import (
    Application,
    ApplicationDepartment,
    ApplicationStatus,
    SupplementRequest,
)
from cityos.services.applications.service import (
    DECIDED,
    MAX_SUPPLEMENT_ITEMS,
    MSG_ACTION,
    MSG_ALREADY_DECIDED,
    MSG_NOT_YOUR_DEPARTMENT,
    MSG_NOT_YOURS,
    MSG_RATE_OPEN,
    MSG_RATE_WHO,
    MSG_RATING_TWICE,
    MSG_SUPPLEMENT_ANSWER,
    MSG_SUPPLEMENT_EMPTY,
    MSG_SUPPLEMENT_KEY,
    MSG_SUPPLEMENT_NONE,
    MSG_SUPPLEMENT_REASON,
    MSG_SUPPLEMENT_TOO_MANY,
    MSG_SUPPLEMENT_TWICE,
    STAFF_ACTIONS,
    _clean_form,
    _department_rows,
    _item,
    _may_file,
    _prefill,
    _seal_form,
    form_of,
    get_visible,
    open_supplement,
)
from cityos.services.applications.submission import _applicant_parties, _decide
from cityos.services.catalogue.models import ServiceItem
from cityos.workflow import service as workflow
from cityos.workflow.calendar import WorkCalendar

# --- department steps -------------------------------------------------------------------------------------


def _my_row(session: Session, actor: Actor, app: Application) -> ApplicationDepartment:
    actor.require("application:approve")
    if actor.department_id is not None:
        for row in _department_rows(session, app):
            if row.department_id == actor.department_id:
                return row
    raise Forbidden(MSG_NOT_YOUR_DEPARTMENT, params={"permission": "application:approve"})


def act(
    session: Session,
    actor: Actor,
    *,
    application_id: int,
    action: str,
    comment: str | None = None,
    now: datetime | None = None,
    calendar: WorkCalendar | None = None,
) -> Application:
    """A department's step: 受理 (receive), 准予 (approve; in parallel approval every department
    signs and the last one completes it) or 不予许可 (reject, with a reason; one refusal ends it)."""
    app = get_visible(session, actor, application_id)
    row = _my_row(session, actor, app)
    if action not in STAFF_ACTIONS:
        raise Invalid(details=[FieldError("action", MSG_ACTION)])
    if row.decision is not None:
        raise Conflict(MSG_ALREADY_DECIDED)
    now = now or utcnow()
    instance = workflow.instance_for(session, "application", app.id)
    spec = workflow.spec_of(session, instance)
    chosen = spec.action(instance.state, action)
    party = str(actor.department_id) if chosen is not None and chosen.countersign else None
    step = workflow.act(
        session, instance, action=action, by=actor, comment=comment, party=party, now=now, calendar=calendar
    )
    item = _item(session, app.item_code)
    if action in ("approve", "reject"):
        row.decision = "approved" if action == "approve" else "rejected"
        row.decided_at = now
    app.status = step.instance.state
    app.updated_at = now
    if step.instance.closed_at is not None:
        _decide(session, actor, app, item, step.instance.state, note=(comment or "").strip() or None, now=now)
    session.flush()
    return app


def _supplement_errors(items: Any, known: set[str]) -> tuple[list[dict[str, str]], list[FieldError]]:
    if not isinstance(items, list) or not items:
        return [], [FieldError("items", MSG_SUPPLEMENT_EMPTY)]
    if len(items) > MAX_SUPPLEMENT_ITEMS:
        return [], [FieldError("items", MSG_SUPPLEMENT_TOO_MANY, {"limit": MAX_SUPPLEMENT_ITEMS})]
    clean: list[dict[str, str]] = []
    errors: list[FieldError] = []
    seen: set[str] = set()
    for n, raw in enumerate(items):
        entry = raw if isinstance(raw, dict) else {}
        key = str(entry.get("key") or "").strip()
        reason = " ".join(str(entry.get("reason") or "").split())
        if not key or key not in known:
            errors.append(FieldError(f"items.{n}.key", MSG_SUPPLEMENT_KEY))
        elif key in seen:
            errors.append(FieldError(f"items.{n}.key", MSG_SUPPLEMENT_TWICE))
        if not reason or len(reason) > 500:
            errors.append(FieldError(f"items.{n}.reason", MSG_SUPPLEMENT_REASON, {"max_length": 500}))
        seen.add(key)
        clean.append({"key": key, "reason": reason})
    return clean, errors


def supplement_keys(item: ServiceItem) -> dict[str, str]:
    """What a department may ask for: the form's fields and the item's materials, with titles."""
    out = {
        str(k): str(v.get("title") or k)
        for k, v in ((item.form_schema or {}).get("properties") or {}).items()
        if isinstance(v, dict)
    }
    for m in item.materials or []:
        key = str(m.get("key") or m.get("credential_kind") or m.get("field") or "")
        if key:
            out.setdefault(key, str(m.get("title") or key))
    return out


def request_supplement(
    session: Session,
    actor: Actor,
    *,
    application_id: int,
    items: Any,
    now: datetime | None = None,
    calendar: WorkCalendar | None = None,
) -> SupplementRequest:
    """一次性告知: everything missing at once (at least one item, each with a reason)."""
    app = get_visible(session, actor, application_id)
    row = _my_row(session, actor, app)
    if row.decision is not None:
        raise Conflict(MSG_ALREADY_DECIDED)
    item = _item(session, app.item_code)
    clean, errors = _supplement_errors(items, set(supplement_keys(item)))
    if errors:
        raise Invalid(details=errors)
    now = now or utcnow()
    instance = workflow.instance_for(session, "application", app.id)
    comment = "；".join(f"{e['key']}: {e['reason']}" for e in clean)[:4000]
    step = workflow.act(session, instance, action="supplement", by=actor, comment=comment, now=now, calendar=calendar)
    request = SupplementRequest(
        application_id=app.id,
        items=clean,
        requested_by_account_id=actor.account_id,
        department_id=actor.department_id,
        created_at=now,
    )
    session.add(request)
    for other in _department_rows(session, app):  # the answer is decided afresh by everyone
        other.decision, other.decided_at = None, None
    app.status = step.instance.state
    app.updated_at = now
    session.flush()
    bus.publish(session, SupplementRequested(application_id=app.id, item_count=len(clean)))
    return request


def answer_supplement(
    session: Session,
    actor: Actor,
    *,
    application_id: int,
    form: Any,
    now: datetime | None = None,
    calendar: WorkCalendar | None = None,
) -> Application:
    """The applicant answers the supplement request in one go; the form is checked again and
    the application goes back to 受理."""
    app = get_visible(session, actor, application_id)
    if not _may_file(actor, app):
        raise Forbidden(MSG_NOT_YOURS, params={"permission": "application:submit"})
    request = open_supplement(session, app)
    if app.status != ApplicationStatus.SUPPLEMENT or request is None:
        raise Conflict(MSG_SUPPLEMENT_NONE)
    answer = _clean_form(form)
    item = _item(session, app.item_code)
    person, organisation = _applicant_parties(session, app)
    filled = _prefill(session, item, person, organisation)
    fields = set(((item.form_schema or {}).get("properties") or {}).keys())
    errors = [
        FieldError(e["key"], MSG_SUPPLEMENT_ANSWER)
        for e in request.items
        if e["key"] in fields and e["key"] not in filled.locked and answer.get(e["key"]) in (None, "")
    ]
    merged = {**form_of(app), **answer, **{k: filled.values[k] for k in filled.locked}}
    errors += [e for e in schemaform.check(item.form_schema or {}, merged) if e.field not in {x.field for x in errors}]
    if errors:
        raise Invalid(details=errors)
    now = now or utcnow()
    _seal_form(app, merged)
    request.answered_at = now
    instance = workflow.instance_for(session, "application", app.id)
    step = workflow.act(session, instance, action="resubmit", by=actor, now=now, calendar=calendar)
    app.status = step.instance.state
    app.updated_at = now
    session.flush()
    bus.publish(
        session,
        ApplicationSubmitted(
            application_id=app.id,
            item_code=app.item_code,
            department_ids=app.department_ids,
            applicant_person_id=app.applicant_person_id,
            channel=app.channel,
            resubmitted=True,
        ),
    )
    return app


# --- 好差评 -----------------------------------------------------------------------------------------------


def rate(session: Session, actor: Actor, *, application_id: int, level: int, comment: str | None = None) -> Any:
    """The applicant rates a decided application (5 非常满意 … 1 非常不满意); one re-rating.
    差评 (1–2) tells the application's departments."""
    from cityos.cases.ratings import BAD_RATING, MSG_RATING_LEVEL, RATING_LEVELS, rate_subject

    app = get_visible(session, actor, application_id)
    mine = actor.account_id is not None and (
        app.applicant_account_id == actor.account_id
        or (app.applicant_person_id is not None and app.applicant_person_id == actor.person_id)
    )
    if not mine:
        raise Forbidden(MSG_RATE_WHO, params={"permission": "application:submit"})
    if level not in RATING_LEVELS:
        raise Invalid(details=[FieldError("level", MSG_RATING_LEVEL)])
    if app.status not in DECIDED:
        raise Conflict(MSG_RATE_OPEN)
    row = rate_subject(
        session,
        actor,
        subject_type="application",
        subject_id=app.id,
        level=level,
        comment=comment,
        twice_message=MSG_RATING_TWICE,
    )
    app.rating = level
    session.flush()
    if level <= BAD_RATING:
        bus.publish(
            session, ApplicationBadlyRated(application_id=app.id, level=level, department_ids=app.department_ids)
        )
    return row
