"""JSON routes of services.applications (办件)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from cityos.core.actor import Actor
from cityos.core.http import DbSession
from cityos.core.pagination import PageQuery
from cityos.identity.deps import CurrentActor
from cityos.services.applications import progress, service, steps, submission
from cityos.services.applications.models import Application, SupplementRequest
from cityos.services.applications.schemas import (
    ActIn,
    ApplicationPage,
    ApplicationRead,
    BundleSubmitIn,
    CredentialUsed,
    DraftCreate,
    FormIn,
    MaterialRead,
    PrefillRead,
    RatingIn,
    RatingRead,
    StepRead,
    SubmitIn,
    SupplementIn,
    SupplementRead,
)

router = APIRouter(prefix="/api/v1", tags=["services"])


def read(app: Application, actor: Actor) -> ApplicationRead:
    """The application as the actor may see it: form values masked unless pii:read."""
    return ApplicationRead(
        id=app.id,
        no=app.no,
        item_code=app.item_code,
        bundle_code=app.bundle_code,
        bundle_group=app.bundle_group,
        applicant_person_id=app.applicant_person_id,
        applicant_organisation_id=app.applicant_organisation_id,
        filed_by_account_id=app.filed_by_account_id,
        channel=app.channel,
        region_id=app.region_id,
        status=app.status,
        form=service.masked(service.form_of(app), actor, app.region_path),
        credential_ids=list(app.credential_ids or []),
        zero_material=app.zero_material,
        department_ids=list(app.department_ids or []),
        result_credential_id=app.result_credential_id,
        decision_note=app.decision_note,
        rating=app.rating,
        created_at=app.created_at,
        submitted_at=app.submitted_at,
        due_at=app.due_at,
        decided_at=app.decided_at,
    )


def _prefill_read(filled: service.Prefill, actor: Actor, region_path: str | None) -> PrefillRead:
    return PrefillRead(
        item_code=filled.item_code,
        person_id=filled.person_id,
        organisation_id=filled.organisation_id,
        values=service.masked(filled.values, actor, region_path),
        locked=filled.locked,
        materials=[MaterialRead.model_validate(m) for m in filled.materials],
        credentials=[CredentialUsed.model_validate(c) for c in filled.credentials],
        missing=filled.missing,
    )


@router.post("/applications", response_model=ApplicationRead, status_code=201)
def create_draft(body: DraftCreate, session: DbSession, actor: CurrentActor) -> ApplicationRead:
    """Start a draft for yourself, or (window clerks) for a resident of your area (代办)."""
    app = service.start_draft(session, actor, item_code=body.item_code, person_id=body.person_id, channel=body.channel)
    return read(app, actor)


@router.get("/applications", response_model=ApplicationPage)
def list_applications(
    session: DbSession,
    actor: CurrentActor,
    params: PageQuery,
    view: Annotated[str, Query(max_length=16)] = "mine",
    status: Annotated[str | None, Query(max_length=16)] = None,
    item_code: Annotated[str | None, Query(max_length=32)] = None,
) -> ApplicationPage:
    """``mine`` (filed by or for you), ``inbox`` (your department's open ones), ``area``."""
    rows, total = service.list_applications(
        session, actor, view=view, params=params, status=status, item_code=item_code
    )
    return ApplicationPage(items=[read(a, actor) for a in rows], page=params.page, size=params.size, total=total)


@router.get("/applications/{application_id}", response_model=ApplicationRead)
def get_application(application_id: int, session: DbSession, actor: CurrentActor) -> ApplicationRead:
    return read(service.get_visible(session, actor, application_id), actor)


@router.put("/applications/{application_id}/form", response_model=ApplicationRead)
def save_draft(application_id: int, body: FormIn, session: DbSession, actor: CurrentActor) -> ApplicationRead:
    return read(service.save_draft(session, actor, application_id=application_id, form=body.form), actor)


@router.post("/applications/{application_id}/submit", response_model=ApplicationRead)
def submit(application_id: int, body: SubmitIn, session: DbSession, actor: CurrentActor) -> ApplicationRead:
    """Check the form against the item's schema and start the process; ``consent`` authorises
    the use of the e-licences listed by the prefill."""
    app = submission.submit(session, actor, application_id=application_id, form=body.form, consent=body.consent)
    return read(app, actor)


@router.post("/applications/{application_id}/actions/{action}", response_model=ApplicationRead)
def take_action(
    application_id: int,
    action: Annotated[str, Path(max_length=32, pattern=r"^[a-z][a-z0-9_]*$")],
    body: ActIn,
    session: DbSession,
    actor: CurrentActor,
) -> ApplicationRead:
    """A department's step: receive (受理), approve (准予), reject (不予许可, with a comment)."""
    app = steps.act(session, actor, application_id=application_id, action=action, comment=body.comment)
    return read(app, actor)


@router.post("/applications/{application_id}/supplement", response_model=SupplementRead, status_code=201)
def request_supplement(
    application_id: int, body: SupplementIn, session: DbSession, actor: CurrentActor
) -> SupplementRequest:
    """一次性告知: everything missing at once, each item with its reason."""
    return steps.request_supplement(
        session, actor, application_id=application_id, items=[i.model_dump() for i in body.items]
    )


@router.post("/applications/{application_id}/supplement-answer", response_model=ApplicationRead)
def answer_supplement(application_id: int, body: FormIn, session: DbSession, actor: CurrentActor) -> ApplicationRead:
    app = steps.answer_supplement(session, actor, application_id=application_id, form=body.form)
    return read(app, actor)


@router.get("/applications/{application_id}/progress", response_model=list[StepRead])
def get_progress(application_id: int, session: DbSession, actor: CurrentActor) -> list[Any]:
    """全流程可视: each step, who holds it, since when, its deadline."""
    return progress.progress(session, actor, application_id)


@router.post("/applications/{application_id}/rating", response_model=RatingRead, status_code=201)
def rate(application_id: int, body: RatingIn, session: DbSession, actor: CurrentActor) -> Any:
    """好差评 of a decided application: 5 非常满意 … 1 非常不满意; one re-rating."""
    return steps.rate(session, actor, application_id=application_id, level=body.level, comment=body.comment)


@router.get("/service-items/{item_code}/prefill", response_model=PrefillRead)
def get_prefill(
    item_code: Annotated[str, Path(max_length=32)],
    session: DbSession,
    actor: CurrentActor,
    person_id: int | None = None,
) -> PrefillRead:
    """The form values the platform already knows and the materials e-licences prove (零材料)."""
    filled = service.prefill(session, actor, item_code=item_code, person_id=person_id)
    return _prefill_read(filled, actor, None)


@router.post("/service-bundles/{bundle_code}/applications", response_model=list[ApplicationRead], status_code=201)
def submit_bundle(
    bundle_code: Annotated[str, Path(max_length=32)], body: BundleSubmitIn, session: DbSession, actor: CurrentActor
) -> list[ApplicationRead]:
    """一件事一次办: one form, one submission, an application per item of the bundle."""
    apps = submission.submit_bundle(
        session,
        actor,
        bundle_code=bundle_code,
        form=body.form,
        consent=body.consent,
        person_id=body.person_id,
        channel=body.channel,
    )
    return [read(a, actor) for a in apps]
