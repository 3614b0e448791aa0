"""JSON routes of services.licences (电子证照).

``router`` holds the signed-in routes under /api/v1. ``public_router`` holds the verification
that anyone may call without an account (a QR scanned at a counter or a shop): it lives outside
/api/v1 and is mounted by ``pages.router``.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Path
from sqlalchemy.orm import Session

from cityos.core.actor import Actor
from cityos.core.http import DbSession
from cityos.core.i18n import translate
from cityos.identity.deps import CurrentActor
from cityos.services.licences import service
from cityos.services.licences.models import Credential, CredentialKind
from cityos.services.licences.schemas import (
    CredentialCreate,
    CredentialKindRead,
    CredentialRead,
    CredentialUseRead,
    RevokeIn,
    VerificationIn,
    VerificationRead,
)

router = APIRouter(prefix="/api/v1", tags=["services"])
public_router = APIRouter(tags=["services"])

CredentialNo = Annotated[str, Path(max_length=40, pattern=r"^[A-Za-z0-9]+$")]


def read(session: Session, actor: Actor, credential: Credential, names: service.Names | None = None) -> CredentialRead:
    names = names or service.names(session, [credential])
    data, masked = service.data_for(session, actor, credential)
    return CredentialRead(
        id=credential.id,
        no=credential.no,
        kind_code=credential.kind_code,
        kind_name=names.kind(credential),
        state=service.state_of(credential),
        holder_person_id=credential.holder_person_id,
        holder_organisation_id=credential.holder_organisation_id,
        holder_name=names.holder(credential, masked=masked),
        issuer_department_id=credential.issuer_department_id,
        issuer_name=names.issuer(credential),
        issued_at=credential.issued_at,
        expires_at=credential.expires_at,
        revoked_at=credential.revoked_at,
        revoked_reason=credential.revoked_reason,
        data=data,
        masked=masked,
    )


@router.get("/credential-kinds", response_model=list[CredentialKindRead])
def list_kinds(session: DbSession, actor: CurrentActor) -> list[CredentialKind]:
    """The kinds of e-licence the platform issues, with their fields."""
    return service.list_kinds(session)


@router.get("/credentials", response_model=list[CredentialRead])
def my_wallet(session: DbSession, actor: CurrentActor) -> list[CredentialRead]:
    """Your own credentials (居民身份证 and 户口簿 come from the population registry)."""
    rows = service.wallet(session, actor)
    names = service.names(session, rows)
    return [read(session, actor, c, names) for c in rows]


@router.post("/credentials", response_model=CredentialRead, status_code=201)
def issue(body: CredentialCreate, session: DbSession, actor: CurrentActor) -> CredentialRead:
    """Issue and sign a credential in your department's name."""
    credential = service.issue(
        session,
        actor,
        kind_code=body.kind_code,
        data=body.data,
        holder_person_id=body.holder_person_id,
        holder_organisation_id=body.holder_organisation_id,
        issuer_department_id=body.issuer_department_id,
        valid_days=body.valid_days,
        subject=body.subject,
    )
    return read(session, actor, credential)


@router.get("/credentials/{credential_no}", response_model=CredentialRead)
def get_credential(credential_no: CredentialNo, session: DbSession, actor: CurrentActor) -> CredentialRead:
    """One credential: its holder sees the data in clear; issuing staff see it masked."""
    return read(session, actor, service.get_visible(session, actor, credential_no))


@router.post("/credentials/{credential_no}/revoke", response_model=CredentialRead)
def revoke(credential_no: CredentialNo, body: RevokeIn, session: DbSession, actor: CurrentActor) -> CredentialRead:
    """Revoke a credential of your department, with the reason."""
    credential = service.by_no(session, credential_no)
    return read(session, actor, service.revoke(session, actor, credential_id=credential.id, reason=body.reason))


@router.get("/credentials/{credential_no}/uses", response_model=list[CredentialUseRead])
def list_uses(credential_no: CredentialNo, session: DbSession, actor: CurrentActor) -> list[CredentialUseRead]:
    """Every use of the credential the holder consented to: by whom, when, for what."""
    credential = service.get_visible(session, actor, credential_no)
    return [
        CredentialUseRead(
            id=v.use.id,
            purpose=v.use.purpose,
            subject_type=v.use.subject_type,
            subject_id=v.use.subject_id,
            by=v.by,
            created_at=v.use.created_at,
        )
        for v in service.uses(session, actor, credential)
    ]


def verification_read(result: service.Verification) -> VerificationRead:
    return VerificationRead(**asdict(result), message=translate(service.REASONS[result.reason]))


@public_router.post("/verify/credential", response_model=VerificationRead)
def verify(body: VerificationIn, session: DbSession) -> VerificationRead:
    """Verify a presentation code from a QR, or a credential number; no account needed."""
    return verification_read(service.verify(session, body.token))
