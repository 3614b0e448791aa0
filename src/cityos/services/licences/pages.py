"""Pages of 电子证照: the holder's wallet (/wallet), one credential with its QR and its uses
(/wallet/{no}), the public verification page (/verify), and issuing and revoking for department
staff (/admin/credentials). Templates in web/templates/services/licences/."""

from __future__ import annotations

from typing import Annotated, Any

import segno
from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from cityos.core.actor import Actor
from cityos.core.errors import DomainError, FieldError, Invalid
from cityos.core.http import DbSession
from cityos.core.i18n import N_
from cityos.identity.deps import optional_actor
from cityos.people import validation
from cityos.people.models import Department, Organisation, Person
from cityos.services.licences import api, service
from cityos.services.licences.models import Credential, CredentialKind
from cityos.web.forms import field_errors, refused
from cityos.web.shell import PageActor, page_actor
from cityos.web.templating import render

router = APIRouter(include_in_schema=False)
router.include_router(api.public_router)

QR_TTL = 300  # seconds a QR's code lives
QR_REFRESH = 240  # the page fetches a fresh one before it expires
STATE_LABELS = {"valid": N_("Valid"), "expired": N_("Expired"), "revoked": N_("Revoked")}
GENDER_LABELS = {"male": N_("Male"), "female": N_("Female"), "unknown": N_("Unknown")}
HOLDER_LABELS = {"person": N_("Resident"), "organisation": N_("Organisation"), "any": N_("Resident or organisation")}
MSG_FIND_HOLDER = N_("Give the resident's identity number or the organisation's credit code.")
MSG_NO_ORGANISATION = N_("No organisation with this unified social credit code.")

CredentialNo = Annotated[str, Path(max_length=40, pattern=r"^[A-Za-z0-9]+$")]


def _labels() -> dict[str, Any]:
    return {"state_labels": STATE_LABELS, "gender_labels": GENDER_LABELS}


def _kinds(session: Session) -> dict[str, CredentialKind]:
    return {k.code: k for k in service.list_kinds(session)}


# --- the wallet ----------------------------------------------------------------------------------


@router.get("/wallet", response_class=HTMLResponse)
def wallet(request: Request, session: DbSession, actor: PageActor) -> HTMLResponse:
    """My e-licences: cards with kind, masked number, issuer and whether they are valid now."""
    rows = service.wallet(session, actor)
    names = service.names(session, rows)
    cards = []
    for c in rows:
        data = service.masked_data(c)
        number = data.get("id_number") or data.get("uscc") or data.get("certificate_no") or data.get("licence_no")
        cards.append({"c": c, "state": service.state_of(c), "number": number})
    return render(
        request,
        "services/licences/wallet.html",
        {
            "cards": cards,
            "names": names,
            "can_issue": actor.can("credential:issue"),
            "holder": actor.person_id is not None or actor.organisation_id is not None,
            **_labels(),
        },
    )


def _qr(request: Request, session: Session, credential: Credential) -> dict[str, Any]:
    token = service.presentation_token(session, credential, ttl_seconds=QR_TTL)
    url = f"{str(request.base_url).rstrip('/')}/verify/{token}"
    svg = segno.make(url, error="m").svg_inline(scale=3, dark="#1d2330", title="QR")
    return {"qr_svg": svg, "qr_url": url, "qr_ttl": QR_TTL, "qr_refresh": QR_REFRESH}


@router.get("/wallet/{credential_no}", response_class=HTMLResponse)
def credential_page(
    credential_no: CredentialNo, request: Request, session: DbSession, actor: PageActor
) -> HTMLResponse:
    """One credential: its data (in clear only for its holder), a QR to show, every use."""
    credential = service.get_visible(session, actor, credential_no)
    return _credential(request, session, actor, credential)


def _credential(
    request: Request,
    session: Session,
    actor: Actor,
    credential: Credential,
    *,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    names = service.names(session, [credential])
    data, masked = service.data_for(session, actor, credential)
    kind = session.get(CredentialKind, credential.kind_code)
    fields = [
        (f["title"], f.get("type", "text"), data[f["key"]]) for f in (kind.fields if kind else []) if f["key"] in data
    ]
    state = service.state_of(credential)
    holder = service.is_holder(actor, credential)
    context: dict[str, Any] = {
        "c": credential,
        "names": names,
        "fields": fields,
        "masked": masked,
        "state": state,
        "holder": holder,
        "uses": service.uses(session, actor, credential),
        "can_revoke": state != "revoked" and service.manages(session, actor, credential),
        "errors": errors or {},
        **_labels(),
    }
    if holder and state == "valid":
        context.update(_qr(request, session, credential))
    return render(request, "services/licences/credential.html", context, status_code=status_code)


@router.get("/wallet/{credential_no}/qr", response_class=HTMLResponse)
def fresh_qr(credential_no: CredentialNo, request: Request, session: DbSession, actor: PageActor) -> HTMLResponse:
    """A fresh QR for the holder's page (fetched by HTMX before the shown one expires)."""
    credential = service.get_visible(session, actor, credential_no)
    if not service.is_holder(actor, credential) or service.state_of(credential) != "valid":
        return HTMLResponse("", status_code=204)
    return render(request, "services/licences/_qr.html", {"c": credential, **_qr(request, session, credential)})


# --- public verification -------------------------------------------------------------------------


def _verify_page(
    request: Request, session: Session, *, token: str = "", result: service.Verification | None = None
) -> HTMLResponse:
    actor = optional_actor(request, session)
    if actor.is_authenticated:
        page_actor(request, session, actor)
    errors: dict[str, str] = {}
    status_code = 200
    if token and result is None:
        try:
            result = service.verify(session, token)
        except Invalid as exc:
            errors, status_code = field_errors(exc), 422
    return render(
        request,
        "services/licences/verify.html",
        {
            "token": token,
            "result": result,
            "message": service.REASONS[result.reason] if result else None,
            "errors": errors,
        },
        status_code=status_code,
    )


@router.get("/verify", response_class=HTMLResponse)
def verify_form(request: Request, session: DbSession) -> HTMLResponse:
    """验证电子证照: paste a code or a credential number; no account needed."""
    return _verify_page(request, session)


@router.post("/verify", response_class=HTMLResponse)
def verify_submit(
    request: Request, session: DbSession, token: Annotated[str, Form(max_length=1000)] = ""
) -> HTMLResponse:
    if not token.strip():
        return _verify_page(request, session, token=" ")
    return _verify_page(request, session, token=token)


@router.get("/verify/{token}", response_class=HTMLResponse)
def verify_link(token: Annotated[str, Path(max_length=1000)], request: Request, session: DbSession) -> HTMLResponse:
    """What a phone's camera opens from the QR."""
    return _verify_page(request, session, token=token)


# --- issuing and revoking (department staff) -----------------------------------------------------


@router.get("/admin/credentials", response_class=HTMLResponse)
def admin(
    request: Request,
    session: DbSession,
    actor: PageActor,
    kind: Annotated[str, Query(max_length=32)] = "",
    no: Annotated[str, Query(max_length=40)] = "",
    revoked: Annotated[str, Query(max_length=40)] = "",
) -> HTMLResponse:
    """Issue a credential to a resident or an organisation; search and revoke your department's."""
    actor.require("credential:issue")
    return _admin(request, session, actor, kind=kind, no=no, notice_no=revoked)


def _admin(
    request: Request,
    session: Session,
    actor: Actor,
    *,
    kind: str = "",
    no: str = "",
    notice_no: str = "",
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    rows = service.search(session, actor, kind_code=kind or None, no=no or None)
    return render(
        request,
        "services/licences/admin.html",
        {
            "rows": rows,
            "names": service.names(session, rows),
            "states": {c.id: service.state_of(c) for c in rows},
            "kinds": service.list_kinds(session),
            "holder_labels": HOLDER_LABELS,
            "kind": kind,
            "no": no,
            "notice_no": notice_no,
            "errors": errors or {},
            "values": values or {},
            **_labels(),
        },
        status_code=status_code,
    )


def _find(session: Session, actor: Actor, kind: CredentialKind, holder_key: str) -> Person | Organisation:
    key = holder_key.strip().upper()
    if not key:
        raise Invalid(details=[FieldError("holder", MSG_FIND_HOLDER)])
    if kind.holder == "organisation" or (kind.holder == "any" and not validation.id_number_valid(key)):
        actor.require("credential:issue")
        org = session.scalar(select(Organisation).where(Organisation.uscc == key))
        if org is None:
            raise Invalid(details=[FieldError("holder", MSG_NO_ORGANISATION)])
        return org
    try:
        return service.find_holder(session, actor, id_number=key)
    except Invalid as exc:
        raise Invalid(details=[FieldError("holder", d.message, d.params) for d in exc.details]) from exc


def _prefill(session: Session, holder: Person | Organisation) -> dict[str, str]:
    if isinstance(holder, Organisation):
        return {"org_name": holder.name, "uscc": holder.uscc, "address": holder.address or ""}
    from cityos.services.licences import registry

    data = registry.registry_data(session, holder).get("id_card", {})
    return {"name": holder.name, "gender": holder.gender, **data}


def _issue_form(
    request: Request,
    session: Session,
    actor: Actor,
    kind: CredentialKind,
    holder: Person | Organisation,
    holder_key: str,
    values: dict[str, str],
    errors: dict[str, str],
    status_code: int = 200,
) -> HTMLResponse:
    department = session.get(Department, actor.department_id) if actor.department_id else None
    return render(
        request,
        "services/licences/issue.html",
        {
            "kind": kind,
            "holder_name": holder.name,
            "holder_key": holder_key,
            "department": department,
            "values": values,
            "errors": errors,
            **_labels(),
        },
        status_code=status_code,
    )


@router.get("/admin/credentials/new", response_class=HTMLResponse)
def issue_form(
    request: Request,
    session: DbSession,
    actor: PageActor,
    kind: Annotated[str, Query(max_length=32)] = "",
    holder: Annotated[str, Query(max_length=32)] = "",
) -> HTMLResponse:
    """Step 2 of issuing: the kind's fields, pre-filled from the registry for the chosen holder."""
    actor.require("credential:issue")
    values = {"kind": kind, "holder": holder}
    try:
        found_kind = session.get(CredentialKind, kind) if kind else None
        if found_kind is None:
            raise Invalid(details=[FieldError("kind", service.MSG_UNKNOWN_KIND, {"code": kind})])
        found = _find(session, actor, found_kind, holder)
    except DomainError as exc:
        errors = refused(request, session, actor, exc)
        return _admin(request, session, actor, errors=errors, values=values, status_code=422)
    return _issue_form(request, session, actor, found_kind, found, holder, _prefill(session, found), {})


@router.post("/admin/credentials/new", response_class=HTMLResponse)
async def issue(request: Request, session: DbSession, actor: PageActor) -> Response:
    actor.require("credential:issue")
    form = await request.form()
    kind_code = str(form.get("kind", ""))[:32]
    holder_key = str(form.get("holder", ""))[:32]
    kind = session.get(CredentialKind, kind_code) if kind_code else None
    if kind is None:
        errors = {
            "kind": field_errors(Invalid(details=[FieldError("kind", service.MSG_UNKNOWN_KIND, {"code": kind_code})]))[
                "kind"
            ]
        }
        return _admin(request, session, actor, errors=errors, status_code=422)
    values = {str(f["key"]): str(form.get(f"data.{f['key']}", ""))[:1000] for f in kind.fields}
    days = str(form.get("valid_days", "")).strip()
    try:
        holder = _find(session, actor, kind, holder_key)
        if days and not days.isdigit():
            raise Invalid(details=[FieldError("valid_days", service.MSG_VALID_DAYS, {"max": service.MAX_VALID_DAYS})])
        credential = service.issue(
            session,
            actor,
            kind_code=kind.code,
            data={k: v for k, v in values.items() if v.strip()},
            holder_person_id=holder.id if isinstance(holder, Person) else None,
            holder_organisation_id=holder.id if isinstance(holder, Organisation) else None,
            valid_days=int(days) if days else None,
        )
    except DomainError as exc:
        errors = refused(request, session, actor, exc)
        if "holder" in errors:
            return _admin(request, session, actor, errors=errors, values={"kind": kind_code}, status_code=422)
        holder = _find(session, actor, kind, holder_key)
        values["valid_days"] = days
        return _issue_form(request, session, actor, kind, holder, holder_key, values, errors, exc.status_code)
    return RedirectResponse(f"/wallet/{credential.no}?issued=1", status_code=303)


@router.post("/admin/credentials/{credential_no}/revoke", response_class=HTMLResponse)
def revoke(
    credential_no: CredentialNo,
    request: Request,
    session: DbSession,
    actor: PageActor,
    reason: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    credential = service.by_no(session, credential_no)
    try:
        service.revoke(session, actor, credential_id=credential.id, reason=reason)
    except Invalid as exc:
        errors = refused(request, session, actor, exc)
        return _credential(
            request, session, actor, service.by_no(session, credential_no), errors=errors, status_code=422
        )
    return RedirectResponse(f"/admin/credentials?revoked={credential.no}", status_code=303)
