"""电子证照: issuing signed credentials, the holder's wallet, consent to each use, verification
and revocation. Plain functions taking a session; they flush, never commit.

A credential's data is field-encrypted (it often holds identity numbers) and signed with the
platform's Ed25519 key of purpose ``credential`` over its canonical JSON, so a changed byte in
the database, a forged row or a changed expiry date fails verification. Expiry is checked when a
credential is read or verified; no job is needed.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from cityos.core import audit, bus, signing
from cityos.core.actor import SYSTEM, Actor
from cityos.core.db import utcnow
from cityos.core.errors import Conflict, FieldError, Forbidden, Invalid, NotFound
from cityos.core.i18n import N_
from cityos.core.runtime import field_cipher
from cityos.identity.models import Account
from cityos.people import pii, validation
from cityos.people.models import Department, Organisation, Person
from cityos.people.pii import mask_name as mask_name
from cityos.services.licences import kinds as shipped
from cityos.services.licences import registry
from cityos.services.licences.events import CredentialIssued, CredentialRevoked
from cityos.services.licences.fields import MSG_REQUIRED, check_data
from cityos.services.licences.models import Credential, CredentialKind, CredentialUse

# The contract other parts call lives here; these come from the sub-modules that hold them.
from cityos.services.licences.presentation import REASONS as REASONS
from cityos.services.licences.presentation import Verification as Verification
from cityos.services.licences.presentation import presentation_token as presentation_token
from cityos.services.licences.presentation import verify as verify
from cityos.services.licences.signed import KEY_PURPOSE, canonical_bytes, context
from cityos.services.licences.signed import Names as Names
from cityos.services.licences.signed import data_of as data_of
from cityos.services.licences.signed import masked_data as masked_data
from cityos.services.licences.signed import names as names
from cityos.services.licences.signed import signature_ok as signature_ok
from cityos.services.licences.signed import state_of as state_of

log = structlog.get_logger(__name__)

NO_PREFIX = "DZZZ"  # 电子证照
MAX_VALID_DAYS = 100 * 366
REGISTRY_SUBJECT = "registry"
REGISTRY_KINDS = ("id_card", "household_register")

MSG_UNKNOWN_KIND = N_("Unknown credential kind {code}.")
MSG_HOLDER_PERSON = N_("This kind is held by a person: choose the resident.")
MSG_HOLDER_ORG = N_("This kind is held by an organisation: choose the organisation.")
MSG_HOLDER_ONE = N_("Choose either a resident or an organisation as the holder, not both.")
MSG_NO_PERSON = N_("No resident with this id.")
MSG_NO_ORG = N_("No organisation with this id.")
MSG_NO_DEPARTMENT = N_("No department with this id.")
MSG_WRONG_ISSUER = N_("{department} does not issue {kind}.")
MSG_NOT_OWN_DEPARTMENT = N_("You can issue and revoke only your own department's credentials.")
MSG_VALID_DAYS = N_("Enter a whole number of days from 1 to {max}.")
MSG_REASON = N_("Give the reason for revoking, up to 255 characters.")
MSG_ALREADY_REVOKED = N_("This credential has already been revoked.")
MSG_NOT_VALID = N_("This credential is revoked or expired and cannot be used.")
MSG_PURPOSE = N_("Say what the credential is used for, up to 128 characters.")
MSG_SUBJECT = N_("At most {max_length} characters.")
MSG_NO_CONSENT = N_("Only the holder, or a window clerk serving the holder, may consent to using a credential.")
MSG_NO_RESIDENT = N_("No resident with this identity number.")
MSG_REGISTRY_CHANGED = N_("The registry details changed; a new credential replaces this one.")


# --- installing the kinds ------------------------------------------------------------------------


def install(session: Session) -> None:
    """Installs the shipped credential kinds (idempotent: adds missing, updates changed)."""
    existing = {k.code: k for k in session.scalars(select(CredentialKind))}
    for spec in shipped.KINDS:
        row = existing.get(spec["code"])
        if row is None:
            session.add(CredentialKind(**spec))
            continue
        for attr in ("name", "issuer_department_kind", "holder", "validity_days", "fields"):
            if getattr(row, attr) != spec[attr]:
                setattr(row, attr, spec[attr])
    session.flush()


def list_kinds(session: Session) -> list[CredentialKind]:
    return list(session.scalars(select(CredentialKind).order_by(CredentialKind.code)))


def get_kind(session: Session, code: str) -> CredentialKind:
    kind = session.get(CredentialKind, code) if code else None
    if kind is None:
        raise NotFound()
    return kind


def _dept_kind(department: Department) -> str:
    """``510104-gaj`` → ``gaj``: departments are found by kind (see catalogue.department_for)."""
    return department.code.rpartition("-")[2]


# --- issuing -------------------------------------------------------------------------------------


def _new_no(issued_at: datetime) -> str:
    return f"{NO_PREFIX}{issued_at:%Y%m%d}{secrets.token_hex(6).upper()}"


def issue(
    session: Session,
    actor: Actor,
    *,
    kind_code: str,
    data: dict[str, Any],
    holder_person_id: int | None = None,
    holder_organisation_id: int | None = None,
    issuer_department_id: int | None = None,
    valid_days: int | None = None,
    subject: str = "",
) -> Credential:
    """Issue and sign a credential (发证). ``valid_days`` overrides the kind's validity.

    The actor needs ``credential:issue`` over the issuing department's region (SYSTEM may
    issue anything); department staff issue in their own department's name only, and only the
    kinds that department issues. Nothing is written when any input is wrong.
    """
    kind = session.get(CredentialKind, kind_code) if kind_code else None
    if kind is None:
        raise Invalid(details=[FieldError("kind_code", MSG_UNKNOWN_KIND, {"code": kind_code})])
    if valid_days is not None and not (isinstance(valid_days, int) and 1 <= valid_days <= MAX_VALID_DAYS):
        raise Invalid(details=[FieldError("valid_days", MSG_VALID_DAYS, {"max": MAX_VALID_DAYS})])
    days = valid_days if valid_days is not None else kind.validity_days
    now = utcnow().replace(microsecond=0)
    return _issue(
        session,
        actor,
        kind=kind,
        data=data,
        holder_person_id=holder_person_id,
        holder_organisation_id=holder_organisation_id,
        issuer_department_id=issuer_department_id,
        issued_at=now,
        expires_at=now + timedelta(days=days) if days else None,
        subject=subject,
    )


def _issue(
    session: Session,
    actor: Actor,
    *,
    kind: CredentialKind,
    data: dict[str, Any],
    holder_person_id: int | None,
    holder_organisation_id: int | None,
    issuer_department_id: int | None,
    issued_at: datetime,
    expires_at: datetime | None,
    subject: str,
) -> Credential:
    if issuer_department_id is None and actor.department_id is not None:
        issuer_department_id = actor.department_id
    department = session.get(Department, issuer_department_id) if issuer_department_id is not None else None
    actor.require("credential:issue", region=department.region_path if department else None)
    if department is not None and actor.department_id is not None and actor.department_id != department.id:
        raise Forbidden(MSG_NOT_OWN_DEPARTMENT)
    errors: list[FieldError] = []
    if issuer_department_id is not None and department is None:
        errors.append(FieldError("issuer_department_id", MSG_NO_DEPARTMENT))
    elif (
        department is not None
        and kind.issuer_department_kind != shipped.ANY_DEPARTMENT
        and _dept_kind(department) != kind.issuer_department_kind
    ):
        errors.append(
            FieldError("issuer_department_id", MSG_WRONG_ISSUER, {"department": department.name, "kind": kind.name})
        )
    errors += _holder_errors(session, kind, holder_person_id, holder_organisation_id)
    clean, data_errors = check_data(kind, data)
    errors += data_errors
    if len(subject) > 64:
        errors.append(FieldError("subject", MSG_SUBJECT, {"max_length": 64}))
    if errors:
        raise Invalid(details=errors)
    no = _new_no(issued_at)
    message = canonical_bytes(
        no=no,
        kind_code=kind.code,
        holder_person_id=holder_person_id,
        holder_organisation_id=holder_organisation_id,
        issuer_department_id=department.id if department else None,
        data=clean,
        issued_at=issued_at,
        expires_at=expires_at,
    )
    kid, signature = signing.sign(session, KEY_PURPOSE, message)
    credential = Credential(
        no=no,
        kind_code=kind.code,
        holder_person_id=holder_person_id,
        holder_organisation_id=holder_organisation_id,
        issuer_department_id=department.id if department else None,
        data_enc=field_cipher().encrypt(
            json.dumps(clean, sort_keys=True, separators=(",", ":"), ensure_ascii=False), context=context(no)
        ),
        kid=kid,
        signature=signature,
        issued_at=issued_at,
        expires_at=expires_at,
        subject=subject,
    )
    session.add(credential)
    session.flush()
    audit.record(session, actor, "credential.issue", subject_type="credential", subject_id=no, detail=kind.code)
    bus.publish(
        session,
        CredentialIssued(
            credential_id=credential.id,
            kind_code=kind.code,
            holder_person_id=holder_person_id,
            holder_organisation_id=holder_organisation_id,
            issuer_department_id=credential.issuer_department_id,
        ),
        key=f"credential-issued:{no}",
    )
    return credential


def _holder_errors(
    session: Session, kind: CredentialKind, person_id: int | None, organisation_id: int | None
) -> list[FieldError]:
    if kind.holder == "person" and (person_id is None or organisation_id is not None):
        return [FieldError("holder_person_id", MSG_HOLDER_PERSON)]
    if kind.holder == "organisation" and (organisation_id is None or person_id is not None):
        return [FieldError("holder_organisation_id", MSG_HOLDER_ORG)]
    if (person_id is None) == (organisation_id is None):
        return [FieldError("holder_person_id", MSG_HOLDER_ONE)]
    if person_id is not None and session.get(Person, person_id) is None:
        return [FieldError("holder_person_id", MSG_NO_PERSON)]
    if organisation_id is not None and session.get(Organisation, organisation_id) is None:
        return [FieldError("holder_organisation_id", MSG_NO_ORG)]
    return []


# --- the population registry as the source of 身份证 and 户口簿 ------------------------------------


def registry_credentials(session: Session, person_id: int) -> list[Credential]:
    """The person's 居民身份证 and 居民户口簿, issued from the population registry when missing
    (or re-issued when the registry's details changed), so nobody has to upload them."""
    person = session.get(Person, person_id)
    if person is None:
        raise NotFound()
    wanted = registry.registry_data(session, person)
    current = {c.kind_code: c for c in valid_for(session, person_id=person_id, kinds=list(REGISTRY_KINDS))}
    out: list[Credential] = []
    issuer: list[int | None] = []  # looked up once, when first needed
    today = utcnow().date()
    for code in REGISTRY_KINDS:
        data = wanted.get(code)
        have = current.get(code)
        if data is None:
            if have is not None:
                out.append(have)
            continue
        if have is not None and data_of(have) == data:
            out.append(have)
            continue
        if have is not None:
            _revoke(session, SYSTEM, have, MSG_REGISTRY_CHANGED)
        if not issuer:
            issuer.append(registry.registry_issuer(session, person))
        kind = session.get(CredentialKind, code)
        if kind is None:  # kinds not installed yet (a bare database)
            continue
        now = utcnow().replace(microsecond=0)
        days = registry.id_card_days(person.birth_date, today) if code == "id_card" else kind.validity_days
        out.append(
            _issue(
                session,
                SYSTEM,
                kind=kind,
                data=data,
                holder_person_id=person.id,
                holder_organisation_id=None,
                issuer_department_id=issuer[0],
                issued_at=now,
                expires_at=now + timedelta(days=days) if days else None,
                subject=REGISTRY_SUBJECT,
            )
        )
    return out


# --- reading -------------------------------------------------------------------------------------


def valid_for(
    session: Session,
    *,
    person_id: int | None = None,
    organisation_id: int | None = None,
    kinds: list[str] | None = None,
    now: datetime | None = None,
) -> list[Credential]:
    """The holder's credentials that are usable now: not revoked, not expired, signature intact.
    Newest first."""
    if person_id is None and organisation_id is None:
        return []
    at = now or utcnow()
    holders = []
    if person_id is not None:
        holders.append(Credential.holder_person_id == person_id)
    if organisation_id is not None:
        holders.append(Credential.holder_organisation_id == organisation_id)
    query = select(Credential).where(
        or_(*holders),
        Credential.revoked_at.is_(None),
        or_(Credential.expires_at.is_(None), Credential.expires_at > at),
    )
    if kinds is not None:
        query = query.where(Credential.kind_code.in_(kinds))
    out = []
    for credential in session.scalars(query.order_by(Credential.issued_at.desc(), Credential.id.desc())):
        if signature_ok(session, credential):
            out.append(credential)
        else:
            log.warning("credential.bad_signature", credential_id=credential.id)
    return out


def by_no(session: Session, no: str) -> Credential:
    credential = session.scalar(select(Credential).where(Credential.no == no.strip())) if no else None
    if credential is None:
        raise NotFound()
    return credential


def is_holder(actor: Actor, credential: Credential) -> bool:
    return (actor.person_id is not None and actor.person_id == credential.holder_person_id) or (
        actor.organisation_id is not None and actor.organisation_id == credential.holder_organisation_id
    )


def _issuer_path(session: Session, credential: Credential) -> str | None:
    """The region a credential belongs to for staff: its issuer's, else its holder's."""
    if credential.issuer_department_id is not None:
        dept = session.get(Department, credential.issuer_department_id)
        if dept is not None:
            return dept.region_path
    if credential.holder_person_id is not None:
        person = session.get(Person, credential.holder_person_id)
        return person.region_path if person else None
    if credential.holder_organisation_id is not None:
        org = session.get(Organisation, credential.holder_organisation_id)
        return org.region_path if org else None
    return None


def _holder_path(session: Session, credential: Credential) -> str | None:
    if credential.holder_person_id is not None:
        person = session.get(Person, credential.holder_person_id)
        return person.region_path if person else None
    if credential.holder_organisation_id is not None:
        org = session.get(Organisation, credential.holder_organisation_id)
        return org.region_path if org else None
    return None


def manages(session: Session, actor: Actor, credential: Credential) -> bool:
    """Whether the actor may issue and revoke over this credential (its region and department)."""
    if not actor.can("credential:issue", region=_issuer_path(session, credential)):
        return False
    return actor.department_id is None or actor.department_id == credential.issuer_department_id


def get_visible(session: Session, actor: Actor, no: str) -> Credential:
    """The credential if the actor holds it or may issue over it; ``NotFound`` otherwise."""
    credential = by_no(session, no)
    if is_holder(actor, credential):
        return credential
    if actor.can("credential:issue", region=_issuer_path(session, credential)):
        return credential
    raise NotFound()


def data_for(session: Session, actor: Actor, credential: Credential) -> tuple[dict[str, str], bool]:
    """(data, masked): in clear for the holder, and for ``pii:read`` over the holder (audited);
    masked for everyone else."""
    if is_holder(actor, credential):
        return data_of(credential), False
    if actor.can("pii:read", region=_holder_path(session, credential)):
        audit.record(session, actor, "pii.read", subject_type="credential", subject_id=credential.no)
        return data_of(credential), False
    return masked_data(credential), True


def wallet(session: Session, actor: Actor) -> list[Credential]:
    """The signed-in holder's credentials (a resident's own after ``registry_credentials``; a
    merchant's organisation's too): valid ones first, then expired and revoked."""
    if actor.person_id is None and actor.organisation_id is None:
        return []
    if actor.person_id is not None:
        registry_credentials(session, actor.person_id)
    holders = []
    if actor.person_id is not None:
        holders.append(Credential.holder_person_id == actor.person_id)
    if actor.organisation_id is not None:
        holders.append(Credential.holder_organisation_id == actor.organisation_id)
    rows = list(session.scalars(select(Credential).where(or_(*holders)).order_by(Credential.issued_at.desc())))
    order = {"valid": 0, "expired": 1, "revoked": 2}
    now = utcnow()
    return sorted(rows, key=lambda c: order[state_of(c, now)])


def search(
    session: Session, actor: Actor, *, kind_code: str | None = None, no: str | None = None, limit: int = 50
) -> list[Credential]:
    """Credentials the actor manages (their department's, within their area), newest first."""
    actor.require("credential:issue")
    query = select(Credential).outerjoin(Department, Department.id == Credential.issuer_department_id)
    query = query.where(actor.scope_clause(Department.region_path))
    if actor.department_id is not None:
        query = query.where(Credential.issuer_department_id == actor.department_id)
    if kind_code:
        query = query.where(Credential.kind_code == kind_code)
    if no:
        query = query.where(Credential.no == no.strip())
    return list(session.scalars(query.order_by(Credential.issued_at.desc(), Credential.id.desc()).limit(limit)))


def find_holder(session: Session, actor: Actor, *, id_number: str) -> Person:
    """The resident with this identity number (exact match through the blind index), for staff
    who issue credentials; ``Invalid`` with a field error when none or the number is malformed."""
    actor.require("credential:issue")
    value = validation.normalise_id_number(id_number or "")
    if not value:
        raise Invalid(details=[FieldError("id_number", MSG_REQUIRED)])
    error = validation.id_number_error(value)
    if error:
        raise Invalid(details=[FieldError("id_number", error)])
    person = session.scalar(select(Person).where(Person.id_number_hash == pii.id_number_digest(value)))
    if person is None:
        raise Invalid(details=[FieldError("id_number", MSG_NO_RESIDENT)])
    return person


# --- consent and revocation ----------------------------------------------------------------------


def record_use(
    session: Session,
    actor: Actor,
    *,
    credential_id: int,
    purpose: str,
    subject_type: str = "",
    subject_id: str = "",
) -> CredentialUse:
    """用证授权: the holder's consent to one use of a credential, recorded before it is used.

    The holder consents themselves; a window clerk (``application:proxy`` over the holder's
    area) records the consent of the resident they serve; SYSTEM may record for a job.
    A revoked, expired or forged credential cannot be used.
    """
    credential = session.get(Credential, credential_id)
    if credential is None:
        raise NotFound()
    if not (
        is_holder(actor, credential)
        or "*" in actor.permissions
        or actor.can("application:proxy", region=_holder_path(session, credential))
    ):
        raise Forbidden(MSG_NO_CONSENT)
    purpose = (purpose or "").strip()
    errors = []
    if not purpose or len(purpose) > 128:
        errors.append(FieldError("purpose", MSG_PURPOSE))
    if len(subject_type) > 32:
        errors.append(FieldError("subject_type", MSG_SUBJECT, {"max_length": 32}))
    if len(subject_id) > 64:
        errors.append(FieldError("subject_id", MSG_SUBJECT, {"max_length": 64}))
    if errors:
        raise Invalid(details=errors)
    if state_of(credential) != "valid" or not signature_ok(session, credential):
        raise Conflict(MSG_NOT_VALID)
    use = CredentialUse(
        credential_id=credential.id,
        account_id=actor.account_id,
        purpose=purpose,
        subject_type=subject_type,
        subject_id=subject_id,
    )
    session.add(use)
    session.flush()
    return use


@dataclass(frozen=True)
class UseView:
    use: CredentialUse
    by: str  # the account's display name, or "" for the platform itself


def uses(session: Session, actor: Actor, credential: Credential) -> list[UseView]:
    """Who used the credential, when and for what: the holder's, and its managers', to see."""
    if not (is_holder(actor, credential) or actor.can("credential:issue", region=_issuer_path(session, credential))):
        raise NotFound()
    rows = session.execute(
        select(CredentialUse, Account.display_name)
        .outerjoin(Account, Account.id == CredentialUse.account_id)
        .where(CredentialUse.credential_id == credential.id)
        .order_by(CredentialUse.created_at.desc(), CredentialUse.id.desc())
    )
    return [UseView(use, name or "") for use, name in rows]


def revoke(session: Session, actor: Actor, *, credential_id: int, reason: str) -> Credential:
    """Revoke a credential (注销/吊销) with a reason; verification refuses it from then on."""
    credential = session.get(Credential, credential_id)
    if credential is None:
        raise NotFound()
    actor.require("credential:issue")
    if not actor.covers(_issuer_path(session, credential)):
        raise NotFound()
    if actor.department_id is not None and actor.department_id != credential.issuer_department_id:
        raise Forbidden(MSG_NOT_OWN_DEPARTMENT)
    reason = (reason or "").strip()
    if not reason or len(reason) > 255:
        raise Invalid(details=[FieldError("reason", MSG_REASON)])
    if credential.revoked_at is not None:
        raise Conflict(MSG_ALREADY_REVOKED)
    return _revoke(session, actor, credential, reason)


def _revoke(session: Session, actor: Actor, credential: Credential, reason: str) -> Credential:
    credential.revoked_at = utcnow()
    credential.revoked_reason = reason
    session.flush()
    audit.record(session, actor, "credential.revoke", subject_type="credential", subject_id=credential.no)
    bus.publish(
        session,
        CredentialRevoked(
            credential_id=credential.id,
            kind_code=credential.kind_code,
            holder_person_id=credential.holder_person_id,
            holder_organisation_id=credential.holder_organisation_id,
        ),
        key=f"credential-revoked:{credential.no}",
    )
    return credential
