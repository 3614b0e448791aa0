"""办件: applications from draft to result credential.

Forms come from the item's JSON Schema, pre-filled from the applicant's record and e-licences
(零材料: what a credential proves is never asked for); submission resolves the approving
departments by kind for the applicant's district, starts the process and sets the legal time
limit; departments receive, approve (in parallel when there are several: 并联审批), ask for a
supplement that lists everything missing at once (一次性告知) or refuse; approval issues the
result credential.

Visibility: the applicant and the clerk who filed it (代办); department staff see their own
department's applications; area roles with ``application:read`` see their region subtree.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, exists, or_, select
from sqlalchemy.orm import Session

from cityos.core import bus
from cityos.core.actor import SYSTEM, Actor
from cityos.core.db import utcnow
from cityos.core.errors import Conflict, FieldError, Forbidden, Invalid, NotFound
from cityos.core.i18n import N_
from cityos.core.pagination import PageParams, fetch_page
from cityos.core.runtime import field_cipher
from cityos.identity.models import Account
from cityos.people import pii
from cityos.people.models import Department, Organisation, Person
from cityos.places.models import Region
from cityos.services.applications import processes, schemaform
from cityos.services.applications.events import (
    ApplicationBadlyRated,
    ApplicationDecided,
    ApplicationSubmitted,
    SupplementRequested,
)
from cityos.services.applications.models import (
    Application,
    ApplicationChannel,
    ApplicationDepartment,
    ApplicationStatus,
    SupplementRequest,
)
from cityos.services.catalogue import service as catalogue
from cityos.services.catalogue.models import Audience, ServiceItem
from cityos.services.licences import service as licences
from cityos.services.licences.models import Credential, CredentialKind
from cityos.workflow import service as workflow
from cityos.workflow.calendar import WorkCalendar
from cityos.workflow.spec import Limit

FORM_CONTEXT = "application.form"
AREA_ROLES = frozenset({"commander", "window_clerk", "admin"})
OPEN = (ApplicationStatus.SUBMITTED, ApplicationStatus.APPROVING, ApplicationStatus.SUPPLEMENT)
DECIDED = (ApplicationStatus.APPROVED, ApplicationStatus.REJECTED)
STAFF_ACTIONS = ("receive", "approve", "reject")
MAX_SUPPLEMENT_ITEMS = 50

MSG_ITEM = N_("Choose a service item from the catalogue.")
MSG_ITEM_INACTIVE = N_("This service item is not offered at the moment.")
MSG_CHANNEL = N_("This service item cannot be applied for through this channel.")
MSG_NOT_RESIDENT = N_("Your account is not linked to a resident record.")
MSG_NOT_BUSINESS = N_("This service is for businesses; your account is not linked to one.")
MSG_FOR_OTHERS = N_("You can apply only for yourself.")
MSG_PERSON = N_("Choose a resident of your area.")
MSG_DRAFT_ONLY = N_("Only a draft can be changed or submitted.")
MSG_NOT_YOURS = N_("Only the applicant or the clerk who filed it can do this.")
MSG_CONSENT = N_("Please agree to the use of the listed e-licences.")
MSG_NO_REGION = N_("The applicant has no registered address, so no department can take the application.")
MSG_NO_DEPARTMENT = N_("No department of kind {kind} serves the applicant's district or the city.")
MSG_ACTION = N_("Choose one of: receive, approve, reject.")
MSG_NOT_YOUR_DEPARTMENT = N_("This application is not with your department.")
MSG_ALREADY_DECIDED = N_("Your department has already decided on this application.")
MSG_SUPPLEMENT_EMPTY = N_("List at least one missing item, each with a reason.")
MSG_SUPPLEMENT_KEY = N_("Choose a field or material of this form.")
MSG_SUPPLEMENT_REASON = N_("Give the reason in 1 to {max_length} characters.")
MSG_SUPPLEMENT_TWICE = N_("This item is listed twice.")
MSG_SUPPLEMENT_TOO_MANY = N_("At most {limit} items.")
MSG_SUPPLEMENT_NONE = N_("No supplement has been asked for.")
MSG_SUPPLEMENT_ANSWER = N_("Please give this item: the department asked for it.")
MSG_RATE_WHO = N_("Only the applicant can rate an application.")
MSG_RATE_OPEN = N_("An application can be rated once it is decided.")
MSG_RATING_TWICE = N_("This application has already been rated again; a rating can be changed only once.")
MSG_BUNDLE = N_("Choose a bundle from the catalogue.")
MSG_VIEW = N_("Choose one of: {expected}.")

# Which person-record value fills which form property (when the schema has it).
PERSON_FIELDS = ("name", "gender", "birth_date", "id_number", "phone", "address")
PII_FIELDS = frozenset({"id_number", "phone"})


def install(session: Session) -> None:
    """Installs what this sub-package ships (idempotent); called by ``cityos db upgrade``."""
    processes.install(session)


# --- the item and the applicant ----------------------------------------------------------------------


def _item(session: Session, code: str, *, channel: str | None = None) -> ServiceItem:
    try:
        item = catalogue.get_item(session, code)
    except NotFound:
        raise Invalid(details=[FieldError("item_code", MSG_ITEM)]) from None
    if item is None:
        raise Invalid(details=[FieldError("item_code", MSG_ITEM)])
    if not item.active:
        raise Invalid(details=[FieldError("item_code", MSG_ITEM_INACTIVE)])
    wanted = ApplicationChannel.ONLINE if channel == ApplicationChannel.PROACTIVE else channel
    if wanted is not None and item.channels and wanted not in item.channels:
        raise Invalid(details=[FieldError("channel", MSG_CHANNEL)])
    return item


def _full_address(session: Session, region: Region | None) -> str:
    if region is None:
        return ""
    ids = [int(p) for p in region.path.strip("/").split("/") if p]
    names = {int(i): str(n) for i, n in session.execute(select(Region.id, Region.name).where(Region.id.in_(ids)))}
    return "".join(str(names[i]) for i in ids if i in names)


def person_values(session: Session, person: Person) -> dict[str, Any]:
    """What the resident record says (in clear: the caller masks it for display)."""
    cipher = field_cipher()
    region = session.get(Region, person.region_id) if person.region_id else None
    values: dict[str, Any] = {
        "name": person.name,
        "gender": person.gender,
        "birth_date": person.birth_date.isoformat() if person.birth_date else None,
        "id_number": cipher.decrypt(person.id_number_enc, context=pii.ID_CONTEXT) if person.id_number_enc else None,
        "phone": cipher.decrypt(person.phone_enc, context=pii.PHONE_CONTEXT) if person.phone_enc else None,
        "address": _full_address(session, region) or None,
    }
    return {k: v for k, v in values.items() if v not in (None, "")}


def _organisation_values(session: Session, organisation: Organisation) -> dict[str, Any]:
    values = {"org_name": organisation.name, "uscc": organisation.uscc, "address": organisation.address}
    return {k: v for k, v in values.items() if v}


def _applicant_person(session: Session, actor: Actor, person_id: int | None) -> tuple[Person | None, bool]:
    """The person applied for and whether it is a proxy filing (代办)."""
    if person_id is None or person_id == actor.person_id:
        actor.require("application:submit")
        if actor.person_id is None:
            return None, False
        person = session.get(Person, actor.person_id)
        if person is None:
            raise Invalid(details=[FieldError("person_id", MSG_NOT_RESIDENT)])
        return person, False
    if not actor.can("application:proxy"):
        raise Forbidden(MSG_FOR_OTHERS, params={"permission": "application:proxy"})
    person = session.get(Person, person_id)
    if person is None or person.region_path is None or not actor.covers(person.region_path):
        raise Invalid(details=[FieldError("person_id", MSG_PERSON)])
    actor.require("application:proxy", region=person.region_path)
    return person, True


# --- prefill (零材料) -------------------------------------------------------------------------------------


@dataclass
class Material:
    """One required material and how it is provided."""

    key: str
    title: str
    required: bool
    credential_kind: str | None = None
    field: str | None = None
    credential_id: int | None = None  # the e-licence that proves it (零材料)
    credential_no: str | None = None

    @property
    def proved(self) -> bool:
        return self.credential_id is not None


@dataclass
class UsedCredential:
    id: int
    no: str
    kind_code: str
    kind_name: str


@dataclass
class Prefill:
    item_code: str
    person_id: int | None
    organisation_id: int | None
    values: dict[str, Any] = field(default_factory=dict)  # in clear; mask before showing
    locked: dict[str, str] = field(default_factory=dict)  # field -> "person" or a credential kind code
    materials: list[Material] = field(default_factory=list)
    credentials: list[UsedCredential] = field(default_factory=list)  # need the holder's consent

    @property
    def missing(self) -> list[str]:
        """Materials still to be given: required form fields left empty and credentials not held."""
        out = []
        for m in self.materials:
            if not m.required or m.proved:
                continue
            if m.field and self.values.get(m.field) not in (None, ""):
                continue
            out.append(m.key)
        return out

    @property
    def paper(self) -> list[str]:
        """Credential materials the applicant does not hold as e-licences: to be brought by hand."""
        return [m.key for m in self.materials if m.required and m.credential_kind and not m.proved]


def _credential_data(credential: Credential) -> dict[str, Any]:
    data = licences.data_of(credential)
    return data if isinstance(data, dict) else {}


def _prefill(session: Session, item: ServiceItem, person: Person | None, organisation: Organisation | None) -> Prefill:
    schema_keys = set((item.form_schema or {}).get("properties", {}).keys())
    result = Prefill(item.code, person.id if person else None, organisation.id if organisation else None)
    base = person_values(session, person) if person else {}
    if organisation is not None:
        base.update(_organisation_values(session, organisation))
    for key, value in base.items():
        if key in schema_keys:
            result.values[key] = value
            result.locked[key] = "person" if person else "organisation"
    kinds = sorted({m["credential_kind"] for m in item.materials or [] if m.get("credential_kind")})
    held: list[Credential] = []
    if kinds and (person or organisation):
        held = list(
            licences.valid_for(
                session,
                person_id=person.id if person else None,
                organisation_id=organisation.id if organisation else None,
                kinds=kinds,
            )
        )
    by_kind: dict[str, Credential] = {}
    for credential in held:
        by_kind.setdefault(credential.kind_code, credential)
    used: dict[int, Credential] = {}
    for raw in item.materials or []:
        material = Material(
            key=str(raw.get("key") or raw.get("credential_kind") or raw.get("field") or ""),
            title=str(raw.get("title") or raw.get("key") or ""),
            required=bool(raw.get("required", True)),
            credential_kind=raw.get("credential_kind"),
            field=raw.get("field"),
        )
        proof = by_kind.get(material.credential_kind or "")
        if proof is not None:
            material.credential_id, material.credential_no = proof.id, proof.no
            used[proof.id] = proof
            for key, value in _credential_data(proof).items():
                if key in schema_keys and key not in result.values and value not in (None, ""):
                    result.values[key] = value
                    result.locked[key] = proof.kind_code
        result.materials.append(material)
    names: dict[str, str] = {}
    if used:
        wanted = {c.kind_code for c in used.values()}
        rows = session.execute(select(CredentialKind.code, CredentialKind.name).where(CredentialKind.code.in_(wanted)))
        names = {str(code): str(name) for code, name in rows}
    result.credentials = [
        UsedCredential(c.id, c.no, c.kind_code, str(names.get(c.kind_code, c.kind_code))) for c in used.values()
    ]
    return result


def _require_filing(actor: Actor, person_id: int | None) -> None:
    """Applying for oneself needs application:submit; for someone else, application:proxy."""
    if person_id is None or person_id == actor.person_id:
        actor.require("application:submit")
    elif not actor.can("application:proxy"):
        raise Forbidden(MSG_FOR_OTHERS, params={"permission": "application:proxy"})


def _organisation_of(session: Session, actor: Actor, item: ServiceItem) -> Organisation | None:
    if item.audience != Audience.BUSINESS:
        return None
    if actor.organisation_id is None:
        raise Invalid(details=[FieldError("item_code", MSG_NOT_BUSINESS)])
    return session.get(Organisation, actor.organisation_id)


def prefill(session: Session, actor: Actor, *, item_code: str, person_id: int | None = None) -> Prefill:
    """Form values from the person's record and valid e-licences, which materials those prove
    and which still need input. ``person_id`` is for a clerk filing for a resident (代办)."""
    _require_filing(actor, person_id)
    item = _item(session, item_code)
    organisation = _organisation_of(session, actor, item)
    person: Person | None = None
    if organisation is None:
        person, _ = _applicant_person(session, actor, person_id)
        if person is None:
            raise Invalid(details=[FieldError("person_id", MSG_NOT_RESIDENT)])
    else:
        actor.require("application:submit")
    return _prefill(session, item, person, organisation)


def masked(values: dict[str, Any], actor: Actor, region_path: str | None) -> dict[str, Any]:
    """Form values for display: identity numbers and phones masked unless the actor holds pii:read."""
    if actor.can("pii:read", region=region_path):
        return dict(values)
    out = dict(values)
    for key, value in values.items():
        if isinstance(value, str) and (key in PII_FIELDS or key.endswith(("_id_number", "_phone"))):
            out[key] = pii.mask_phone(value) if key.endswith("phone") else pii.mask_id_number(value)
    return out


# --- drafts ----------------------------------------------------------------------------------------------


def form_of(app: Application) -> dict[str, Any]:
    if not app.form_enc:
        return {}
    data = json.loads(field_cipher().decrypt(app.form_enc, context=FORM_CONTEXT))
    return data if isinstance(data, dict) else {}


def _seal_form(app: Application, form: dict[str, Any]) -> None:
    app.form_enc = field_cipher().encrypt(json.dumps(form, ensure_ascii=False, sort_keys=True), context=FORM_CONTEXT)


def _new_no(now: datetime) -> str:
    return f"SQ{now:%Y%m%d}{secrets.token_hex(5).upper()}"


def _account_of_person(session: Session, person_id: int) -> int | None:
    return session.scalar(
        select(Account.id).where(Account.person_id == person_id, Account.active.is_(True)).order_by(Account.id).limit(1)
    )


def start_draft(
    session: Session,
    actor: Actor,
    *,
    item_code: str,
    person_id: int | None = None,
    channel: str = ApplicationChannel.ONLINE,
    bundle_code: str | None = None,
    bundle_group: str | None = None,
    now: datetime | None = None,
) -> Application:
    """A draft for the actor (a resident or a business) or, by a clerk with application:proxy,
    for a resident of the clerk's area (代办: ``filed_by_account_id`` is the clerk)."""
    _require_filing(actor, person_id)
    if channel not in {c.value for c in ApplicationChannel}:
        raise Invalid(details=[FieldError("channel", MSG_CHANNEL)])
    item = _item(session, item_code, channel=channel)
    now = now or utcnow()
    organisation = _organisation_of(session, actor, item)
    person: Person | None = None
    proxy = False
    if organisation is None:
        person, proxy = _applicant_person(session, actor, person_id)
        if person is None:
            raise Invalid(details=[FieldError("person_id", MSG_NOT_RESIDENT)])
    else:
        actor.require("application:submit")
    region_id = person.region_id if person else organisation.region_id if organisation else None
    region_path = person.region_path if person else organisation.region_path if organisation else None
    app = Application(
        no=_new_no(now),
        item_code=item.code,
        bundle_code=bundle_code,
        bundle_group=bundle_group,
        applicant_person_id=person.id if person else None,
        applicant_organisation_id=organisation.id if organisation else None,
        applicant_account_id=(_account_of_person(session, person.id) if proxy and person else actor.account_id),
        filed_by_account_id=actor.account_id if proxy else None,
        channel=channel,
        region_id=region_id,
        region_path=region_path,
        form_enc="",
        credential_ids=[],
        uploads=0,
        zero_material=False,
        status=ApplicationStatus.DRAFT,
        department_ids=[],
        extra={},
        created_at=now,
        updated_at=now,
    )
    _seal_form(app, {})
    session.add(app)
    session.flush()
    return app


def _may_file(actor: Actor, app: Application) -> bool:
    """The applicant (self-filed) or the clerk who filed it."""
    if actor.account_id is None:
        return False
    if app.filed_by_account_id is not None:
        return app.filed_by_account_id == actor.account_id
    if app.applicant_account_id == actor.account_id:
        return True
    return app.applicant_person_id is not None and app.applicant_person_id == actor.person_id


def _own_draft(session: Session, actor: Actor, application_id: int) -> Application:
    app = get_visible(session, actor, application_id)
    if not _may_file(actor, app):
        raise Forbidden(MSG_NOT_YOURS, params={"permission": "application:submit"})
    if app.status != ApplicationStatus.DRAFT:
        raise Conflict(MSG_DRAFT_ONLY)
    return app


def _clean_form(form: Any) -> dict[str, Any]:
    if form is None:
        return {}
    if not isinstance(form, dict):
        raise Invalid(details=[FieldError("form", schemaform.MSG_FORM)])
    return {str(k): v for k, v in form.items()}


def save_draft(session: Session, actor: Actor, *, application_id: int, form: Any) -> Application:
    """Keep what has been typed so far (not checked against the schema until submission,
    except that it must be a set of fields of the form)."""
    app = _own_draft(session, actor, application_id)
    values = _clean_form(form)
    item = _item(session, app.item_code)
    known = set((item.form_schema or {}).get("properties", {}).keys())
    unknown = [FieldError(k, schemaform.MSG_UNKNOWN) for k in values if known and k not in known]
    if unknown:
        raise Invalid(details=unknown)
    _seal_form(app, {**form_of(app), **values})
    app.updated_at = utcnow()
    session.flush()
    return app


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


# --- reading -------------------------------------------------------------------------------------------


def application_query(actor: Actor) -> Select[Application]:
    """The applications ``actor`` may see."""
    conditions: list[Any] = []
    if actor.account_id is not None:
        conditions.append(Application.applicant_account_id == actor.account_id)
        conditions.append(Application.filed_by_account_id == actor.account_id)
    if actor.person_id is not None:
        conditions.append(Application.applicant_person_id == actor.person_id)
    submitted = Application.status != ApplicationStatus.DRAFT
    if "department_staff" in actor.roles and actor.department_id is not None and actor.can("application:read"):
        conditions.append(
            and_(
                submitted,
                exists().where(
                    ApplicationDepartment.application_id == Application.id,
                    ApplicationDepartment.department_id == actor.department_id,
                ),
            )
        )
    if actor.can("application:read") and actor.roles & AREA_ROLES:
        conditions.append(and_(submitted, actor.scope_clause(Application.region_path)))
    if not conditions:
        raise Forbidden(params={"permission": "application:read"})
    return select(Application).where(or_(*conditions))


def get_visible(session: Session, actor: Actor, application_id: int) -> Application:
    app = session.scalar(application_query(actor).where(Application.id == application_id))
    if app is None:
        raise NotFound()
    return app


VIEWS = ("mine", "inbox", "area")


def list_applications(
    session: Session,
    actor: Actor,
    *,
    view: str = "mine",
    params: PageParams,
    status: str | None = None,
    item_code: str | None = None,
) -> tuple[list[Application], int | None]:
    """``mine``: filed by or for me; ``inbox``: my department's open applications; ``area``:
    every submitted application of my area. Newest first."""
    if view not in VIEWS:
        raise Invalid(details=[FieldError("view", MSG_VIEW, {"expected": ", ".join(VIEWS)})])
    query = application_query(actor)
    if view == "mine":
        own = [
            Application.applicant_account_id == actor.account_id,
            Application.filed_by_account_id == actor.account_id,
        ]
        if actor.person_id is not None:
            own.append(Application.applicant_person_id == actor.person_id)
        query = query.where(or_(*own))
    elif view == "inbox":
        if "department_staff" not in actor.roles or actor.department_id is None:
            raise Forbidden(params={"permission": "application:approve"})
        query = query.where(
            Application.status.in_([s.value for s in OPEN]),
            exists().where(
                ApplicationDepartment.application_id == Application.id,
                ApplicationDepartment.department_id == actor.department_id,
                ApplicationDepartment.decision.is_(None),
            ),
        )
    else:
        actor.require("application:read")
        query = query.where(Application.status != ApplicationStatus.DRAFT)
    if status:
        query = query.where(Application.status == status)
    if item_code:
        query = query.where(Application.item_code == item_code)
    return fetch_page(session, query.order_by(Application.created_at.desc(), Application.id.desc()), params)


def departments_of(session: Session, app: Application) -> list[tuple[ApplicationDepartment, Department]]:
    rows = session.execute(
        select(ApplicationDepartment, Department)
        .join(Department, Department.id == ApplicationDepartment.department_id)
        .where(ApplicationDepartment.application_id == app.id)
        .order_by(ApplicationDepartment.id)
    )
    return [(row, dept) for row, dept in rows]


def _department_rows(session: Session, app: Application) -> list[ApplicationDepartment]:
    return list(
        session.scalars(
            select(ApplicationDepartment)
            .where(ApplicationDepartment.application_id == app.id)
            .order_by(ApplicationDepartment.id)
        )
    )


def open_supplement(session: Session, app: Application) -> SupplementRequest | None:
    return session.scalars(
        select(SupplementRequest)
        .where(SupplementRequest.application_id == app.id, SupplementRequest.answered_at.is_(None))
        .order_by(SupplementRequest.id.desc())
        .limit(1)
    ).first()


# --- department steps -------------------------------------------------------------------------------------


def _my_row(session: Session, actor: Actor, app: Application) -> ApplicationDepartment:
    actor.require("application:approve")
    if actor.department_id is not None:
        for row in _department_rows(session, app):
            if row.department_id == actor.department_id:
                return row
    raise Forbidden(MSG_NOT_YOUR_DEPARTMENT, params={"permission": "application:approve"})


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
