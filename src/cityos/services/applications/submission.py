"""Submitting an application: the form checked against the item's JSON Schema, consent, the
approving departments, the process and its legal time limit; 一件事 bundles; the decision and the
result e-licence. Split from ``service.py`` (item, prefill, drafts, reading)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from cityos.core import bus
from cityos.core.actor import SYSTEM, Actor
from cityos.core.db import utcnow
from cityos.core.errors import FieldError, Invalid, NotFound
from cityos.people.models import Department, Organisation, Person
from cityos.places.models import Region
from cityos.services.applications import processes, schemaform
from cityos.services.applications.events import (
    ApplicationDecided,
    ApplicationSubmitted,
)
from cityos.services.applications.models import (
    Application,
    ApplicationChannel,
    ApplicationDepartment,
    ApplicationStatus,
)
from cityos.services.applications.service import (
    MSG_BUNDLE,
    MSG_CONSENT,
    MSG_NO_DEPARTMENT,
    MSG_NO_REGION,
    Prefill,
    _clean_form,
    _credential_data,
    _department_rows,
    _item,
    _organisation_values,
    _own_draft,
    _prefill,
    _require_filing,
    _seal_form,
    departments_of,
    form_of,
    person_values,
    prefill,
    start_draft,
)
from cityos.services.catalogue import service as catalogue
from cityos.services.catalogue.models import ServiceItem
from cityos.services.licences import service as licences
from cityos.services.licences.models import Credential, CredentialKind
from cityos.workflow import service as workflow
from cityos.workflow.calendar import WorkCalendar
from cityos.workflow.spec import Limit

# --- submission -----------------------------------------------------------------------------------------


def _applicant_parties(session: Session, app: Application) -> tuple[Person | None, Organisation | None]:
    person = session.get(Person, app.applicant_person_id) if app.applicant_person_id else None
    organisation = session.get(Organisation, app.applicant_organisation_id) if app.applicant_organisation_id else None
    return person, organisation


def resolve_departments(session: Session, item: ServiceItem, region: Region | None) -> list[Department]:
    """The approving department of each of the item's kinds for the region (its district's,
    else the city's); ``Invalid`` naming the kind when one is missing."""
    if region is None:
        raise Invalid(details=[FieldError("person_id", MSG_NO_REGION)])
    out: list[Department] = []
    errors: list[FieldError] = []
    for kind in item.department_kinds or []:
        department = catalogue.department_for(session, kind=kind, region=region)
        if department is None:
            errors.append(FieldError("item_code", MSG_NO_DEPARTMENT, {"kind": kind}))
        elif department.id not in {d.id for d in out}:
            out.append(department)
    if not out and not errors:
        errors.append(FieldError("item_code", MSG_NO_DEPARTMENT, {"kind": "?"}))
    if errors:
        raise Invalid(details=errors)
    return out


@dataclass
class _Checked:
    item: ServiceItem
    form: dict[str, Any]
    prefilled: Prefill
    departments: list[Department]
    region: Region | None


def _check_submission(
    session: Session, app: Application, form: dict[str, Any], consent: bool, errors: list[FieldError], prefix: str = ""
) -> _Checked | None:
    item = _item(session, app.item_code)
    person, organisation = _applicant_parties(session, app)
    filled = _prefill(session, item, person, organisation)
    merged = {**form, **{k: filled.values[k] for k in filled.locked}}
    problems = schemaform.check(item.form_schema or {}, merged)
    errors.extend(FieldError(prefix + e.field, e.message, e.params) for e in problems)
    if filled.credentials and not consent:
        errors.append(FieldError("consent", MSG_CONSENT))
    region = session.get(Region, app.region_id) if app.region_id else None
    try:
        departments = resolve_departments(session, item, region)
    except Invalid as exc:
        errors.extend(exc.details)
        departments = []
    if problems or not departments:
        return None
    return _Checked(item, merged, filled, departments, region)


def _launch(
    session: Session, actor: Actor, app: Application, checked: _Checked, *, now: datetime, cal: WorkCalendar
) -> None:
    """Store the checked form, record the credential uses, start the process."""
    item = checked.item
    _seal_form(app, checked.form)
    app.credential_ids = [c.id for c in checked.prefilled.credentials]
    for credential in checked.prefilled.credentials:
        licences.record_use(
            session,
            actor,
            credential_id=credential.id,
            purpose=item.name[:128],
            subject_type="application",
            subject_id=app.no,
        )
    app.uploads = len(checked.prefilled.paper)
    app.zero_material = app.uploads == 0
    if checked.prefilled.paper:
        app.extra = {**(app.extra or {}), "paper_materials": checked.prefilled.paper}
    app.department_ids = [d.id for d in checked.departments]
    for department in checked.departments:
        session.add(ApplicationDepartment(application_id=app.id, department_id=department.id))
    key = processes.process_key(
        instant=item.instant, departments=len(checked.departments), declared=item.process_key or None
    )
    limit = Limit(amount=item.time_limit_days, unit="working_days") if item.time_limit_days > 0 else None
    instance = workflow.start(
        session,
        key=key,
        subject_type="application",
        subject_id=app.id,
        by=actor,
        region_path=app.region_path,
        data={"departments": [str(d.id) for d in checked.departments]},
        now=now,
        calendar=cal,
        limit=limit,
    )
    app.status = instance.state
    app.submitted_at = now
    app.due_at = instance.due_at
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
        ),
    )
    if key == processes.INSTANT:
        step = workflow.act(session, instance, action="decide", by=SYSTEM, now=now, calendar=cal)
        for row in _department_rows(session, app):
            row.decision, row.decided_at = ApplicationStatus.APPROVED.value, now
        _decide(session, SYSTEM, app, item, ApplicationStatus.APPROVED, note=None, now=now)
        app.status = step.instance.state


def submit(
    session: Session,
    actor: Actor,
    *,
    application_id: int,
    form: Any = None,
    consent: bool,
    now: datetime | None = None,
    calendar: WorkCalendar | None = None,
) -> Application:
    """Check the draft's form against the item's schema (every error on its field), require
    consent to the credentials used, resolve the departments and start the process."""
    app = _own_draft(session, actor, application_id)
    now = now or utcnow()
    values = {**form_of(app), **_clean_form(form)}
    errors: list[FieldError] = []
    checked = _check_submission(session, app, values, consent, errors)
    if errors or checked is None:
        raise Invalid(details=errors)
    _launch(session, actor, app, checked, now=now, cal=calendar or WorkCalendar.load(session))
    return app


def bundle_form(session: Session, bundle_code: str) -> tuple[Any, list[ServiceItem], dict[str, Any]]:
    """The bundle, its items and their merged form schema."""
    try:
        bundle = catalogue.get_bundle(session, bundle_code)
    except NotFound:
        raise Invalid(details=[FieldError("bundle_code", MSG_BUNDLE)]) from None
    if bundle is None or not bundle.active:
        raise Invalid(details=[FieldError("bundle_code", MSG_BUNDLE)])
    items = list(catalogue.bundle_items(session, bundle))
    if not items:
        raise Invalid(details=[FieldError("bundle_code", MSG_BUNDLE)])
    return bundle, items, schemaform.merge([i.form_schema or {} for i in items], title=bundle.name)


def bundle_prefill(session: Session, actor: Actor, *, bundle_code: str, person_id: int | None = None) -> Prefill:
    """One prefill for the bundle's merged form (values, locks, materials and credentials of all items)."""
    bundle, items, schema = bundle_form(session, bundle_code)
    merged = Prefill(bundle.code, None, None)
    seen_materials: set[str] = set()
    seen_credentials: set[int] = set()
    for item in items:
        one = prefill(session, actor, item_code=item.code, person_id=person_id)
        merged.person_id, merged.organisation_id = one.person_id, one.organisation_id
        for key, value in one.values.items():
            merged.values.setdefault(key, value)
        for key, source in one.locked.items():
            merged.locked.setdefault(key, source)
        for m in one.materials:
            if m.key not in seen_materials:
                seen_materials.add(m.key)
                merged.materials.append(m)
        for c in one.credentials:
            if c.id not in seen_credentials:
                seen_credentials.add(c.id)
                merged.credentials.append(c)
    return merged


def submit_bundle(
    session: Session,
    actor: Actor,
    *,
    bundle_code: str,
    form: Any,
    consent: bool,
    person_id: int | None = None,
    channel: str = ApplicationChannel.ONLINE,
    now: datetime | None = None,
    calendar: WorkCalendar | None = None,
) -> list[Application]:
    """一件事一次办: one merged form and one submission for every item of the bundle; the
    applications share ``bundle_group``. All are submitted or none (every error is reported)."""
    _require_filing(actor, person_id)
    now = now or utcnow()
    bundle, items, schema = bundle_form(session, bundle_code)
    values = _clean_form(form)
    group = secrets.token_hex(8)
    cal = calendar or WorkCalendar.load(session)
    drafts = [
        start_draft(
            session,
            actor,
            item_code=item.code,
            person_id=person_id,
            channel=channel,
            bundle_code=bundle.code,
            bundle_group=group,
            now=now,
        )
        for item in items
    ]
    errors: list[FieldError] = []
    checks: list[_Checked | None] = []
    for app, item in zip(drafts, items, strict=True):
        own: list[FieldError] = []
        checks.append(_check_submission(session, app, schemaform.project(item.form_schema or {}, values), consent, own))
        for e in own:
            if (e.field, e.message) not in {(x.field, x.message) for x in errors}:
                errors.append(e)
    if errors or any(c is None for c in checks):
        raise Invalid(details=errors)
    for app, checked in zip(drafts, checks, strict=True):
        assert checked is not None
        _launch(session, actor, app, checked, now=now, cal=cal)
    return drafts


RESULT_FALLBACK_KIND = "approval_notice"  # the generic result when the item's kind cannot be filled


def _result_values(session: Session, app: Application, item: ServiceItem, kind_code: str) -> dict[str, Any]:
    """What a result credential may carry: the applicant's current credential of that kind,
    then the record, then the form, then the decision itself."""
    person, organisation = _applicant_parties(session, app)
    values: dict[str, Any] = {}
    held = licences.valid_for(
        session,
        person_id=person.id if person else None,
        organisation_id=organisation.id if organisation else None,
        kinds=[kind_code],
    )
    if held:
        values.update(_credential_data(held[0]))
    if person is not None:
        values.update(person_values(session, person))
    if organisation is not None:
        values.update(_organisation_values(session, organisation))
    values.update({k: v for k, v in form_of(app).items() if isinstance(v, str | int | float) and v != ""})
    today = utcnow().date().isoformat()
    applicant = organisation.name if organisation else person.name if person else ""
    for key, value in {
        "item_name": item.name,
        "applicant": applicant,
        "decision": "准予许可",
        "application_no": app.no,
        "established_on": today,
        "registered_on": today,
        "insured_on": today,
    }.items():
        values.setdefault(key, value)
    return values


def _issuer_for(session: Session, app: Application, kind: CredentialKind) -> int | None:
    """The approving department that issues this kind (by its kind code), else the first one."""
    rows = departments_of(session, app)
    for _, dept in rows:
        if dept.code.rpartition("-")[2] == kind.issuer_department_kind:
            return dept.id
    return rows[0][1].id if rows else None


def _issue_result(session: Session, actor: Actor, app: Application, item: ServiceItem) -> Credential | None:
    code = item.result_credential_kind
    kind = session.get(CredentialKind, code) if code else None
    if kind is None:
        return None
    values = _result_values(session, app, item, kind.code)
    complete = all(f.get("key") in values for f in kind.fields if f.get("required", True))
    if not complete:
        fallback = session.get(CredentialKind, RESULT_FALLBACK_KIND)
        if fallback is None:
            return None
        app.extra = {**(app.extra or {}), "result_fallback": kind.code}
        kind = fallback
        values = _result_values(session, app, item, kind.code)
    issuer = _issuer_for(session, app, kind)
    by = actor if actor.department_id is not None and actor.department_id == issuer else SYSTEM
    keys = {str(f.get("key")) for f in kind.fields}
    holder_org = app.applicant_organisation_id if kind.holder != "person" else None
    return licences.issue(
        session,
        by,
        kind_code=kind.code,
        data={k: v for k, v in values.items() if k in keys},
        holder_person_id=None if holder_org else app.applicant_person_id,
        holder_organisation_id=holder_org,
        issuer_department_id=issuer,
        subject=f"{app.no} {item.name}"[:64],
    )


def _decide(
    session: Session,
    actor: Actor,
    app: Application,
    item: ServiceItem,
    decision: str,
    *,
    note: str | None,
    now: datetime,
) -> None:
    app.status = decision
    app.decided_at = now
    app.decision_note = note
    app.updated_at = now
    if decision == ApplicationStatus.APPROVED:
        credential = _issue_result(session, actor, app, item)
        app.result_credential_id = credential.id if credential else None
    session.flush()
    bus.publish(
        session,
        ApplicationDecided(
            application_id=app.id,
            item_code=app.item_code,
            decision=decision,
            applicant_person_id=app.applicant_person_id,
            result_credential_id=app.result_credential_id,
        ),
    )
