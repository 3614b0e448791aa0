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

from cityos.core.actor import Actor
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
