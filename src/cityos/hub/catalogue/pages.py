"""Pages of the data catalogue: ``/data`` (browse and search), ``/data/new`` (publish with a
schema editor), ``/data/{code}`` (detail, schema, usage chart, request access, a sample read
through one's grant), ``/data/requests`` (the approval queue and one's own requests),
``/data/grants`` and ``/data/readlog`` (with the chain check)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile

from cityos.core.errors import DomainError, Forbidden, NotFound
from cityos.core.http import DbSession, get_runtime
from cityos.core.i18n import N_
from cityos.core.pagination import PageParams
from cityos.core.settings import get_settings
from cityos.hub.catalogue import grants, readlog, records
from cityos.hub.catalogue import service as catalogue
from cityos.hub.catalogue.masking import FIELD_TYPES, SENSITIVITIES
from cityos.hub.catalogue.models import DataRequest, Dataset
from cityos.hub.catalogue.sources import SOURCES
from cityos.web.forms import refused
from cityos.web.shell import PageActor
from cityos.web.templating import render

router = APIRouter(include_in_schema=False)

CLASS_TITLES = {"open": N_("Open to all"), "shared": N_("Shared on request"), "restricted": N_("Restricted")}
KIND_TITLES = {"entity_type": N_("NGSI-LD entities"), "table": N_("Platform source"), "file": N_("Uploaded file")}
STATUS_TITLES = {
    "pending": N_("Waiting for approval"),
    "second": N_("Waiting for the second approval"),
    "granted": N_("Granted"),
    "refused": N_("Not approved"),
    "cancelled": N_("Withdrawn by the requester"),
    "active": N_("In force"),
    "expired": N_("Expired"),
    "revoked": N_("Revoked by the owner"),
    "published": N_("In the catalogue"),
    "withdrawn": N_("Taken down"),
}
SENSITIVITY_TITLES = {"none": N_("Not personal"), "personal": N_("Personal"), "sensitive": N_("Sensitive")}
NOTICES = {
    "published": N_("The dataset is published."),
    "requested": N_("Your request has been sent to the owner department."),
    "approved": N_("Approved."),
    "refused": N_("The request was refused."),
    "revoked": N_("The grant was revoked: access stopped at once."),
    "withdrawn": N_("The dataset was withdrawn from the catalogue."),
}
SAMPLE_ROWS = 10
SCHEMA_ROWS = 8


def when(moment: datetime | None) -> str:
    return moment.astimezone(ZoneInfo(get_settings().timezone)).strftime("%Y-%m-%d %H:%M") if moment else ""


def common(**extra: Any) -> dict[str, Any]:
    return {
        "when": when,
        "class_titles": CLASS_TITLES,
        "kind_titles": KIND_TITLES,
        "status_titles": STATUS_TITLES,
        "sensitivity_titles": SENSITIVITY_TITLES,
        **extra,
    }


def _notice(key: str | None) -> str | None:
    return NOTICES.get(key or "")


def _see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


# --- the catalogue -----------------------------------------------------------------------------------


@router.get("/data", response_class=HTMLResponse)
def catalogue_page(
    request: Request,
    session: DbSession,
    actor: PageActor,
    q: Annotated[str, Query(max_length=100)] = "",
    access_class: Annotated[str, Query(max_length=16)] = "",
    page: Annotated[int, Query(ge=1)] = 1,
) -> HTMLResponse:
    params = PageParams(page=page, size=20)
    rows, total = catalogue.search(session, actor, params, q=q or None, access_class=access_class or None)
    names = catalogue.department_names(session, {r.department_id for r in rows})
    return render(
        request,
        "hub/catalogue/list.html",
        common(
            datasets=rows,
            total=total or 0,
            page=page,
            pages=max(1, -(-(total or 0) // params.size)),
            q=q,
            access_class=access_class,
            departments=names,
            top=records.top_datasets(session, limit=5),
            can_publish=actor.can("dataset:publish") and (actor.department_id is not None or catalogue.is_admin(actor)),
            can_share=actor.can("dataset:request") or actor.can("dataset:approve"),
            can_audit=readlog.may_audit(actor) or readlog.may_verify(actor),
        ),
    )


def _form_page(
    request: Request,
    values: dict[str, Any],
    schema: list[dict[str, str]],
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    while len(schema) < SCHEMA_ROWS:
        schema.append({"name": "", "type": "string", "description": "", "sensitivity": "none"})
    return render(
        request,
        "hub/catalogue/new.html",
        common(
            values=values,
            schema=schema,
            errors=errors or {},
            field_types=FIELD_TYPES,
            sensitivities=SENSITIVITIES,
            sources=SOURCES,
            max_mb=get_settings().max_upload_mb,
        ),
        status_code=status_code,
    )


@router.get("/data/new", response_class=HTMLResponse)
def new_page(request: Request, actor: PageActor) -> HTMLResponse:
    actor.require("dataset:publish")
    values = {"access_class": "shared", "kind": "table", "source": "cases", "frequency": "daily", "tenant": "default"}
    return _form_page(request, values, [])


@router.post("/data/new", response_class=HTMLResponse)
async def publish(request: Request, session: DbSession, actor: PageActor) -> Response:
    form = await request.form()
    values = {k: str(form.get(k) or "").strip() for k in ("code", "name", "description", "access_class", "kind")}
    values |= {k: str(form.get(k) or "").strip() for k in ("source", "tenant", "frequency", "tags")}
    schema = []
    for n in range(100):
        name = str(form.get(f"f{n}_name") or "").strip()
        if f"f{n}_name" not in form:
            break
        if name:
            schema.append(
                {
                    "name": name,
                    "type": str(form.get(f"f{n}_type") or "string"),
                    "description": str(form.get(f"f{n}_description") or ""),
                    "sensitivity": str(form.get(f"f{n}_sensitivity") or "none"),
                }
            )
    upload = form.get("file")
    data = await upload.read() if isinstance(upload, UploadFile) else None
    file_name = upload.filename if isinstance(upload, UploadFile) else None
    tags = [t for t in values["tags"].replace("，", ",").split(",") if t.strip()]
    use_source_schema = values["kind"] == "table" and not schema
    try:
        dataset = catalogue.create_dataset(
            session,
            actor,
            code=values["code"],
            name=values["name"],
            description=values["description"],
            access_class=values["access_class"],
            kind=values["kind"],
            source=values["source"] if values["kind"] != "file" else "",
            tenant=values["tenant"] or "default",
            fields=None if use_source_schema else schema,
            frequency=values["frequency"],
            tags=tags,
            file=data or None,
            file_name=file_name,
            upload_dir=get_runtime(request).settings.upload_dir,
        )
    except DomainError as exc:
        errors = refused(request, session, actor, exc)
        return _form_page(request, values, schema, errors, status_code=422)
    return _see_other(f"/data/{dataset.code}?notice=published")


# --- lists (declared before /data/{code}) ---------------------------------------------------------------


def _request_rows(session: DbSession, rows: list[DataRequest]) -> list[dict[str, Any]]:
    datasets = {d.id: d for d in (session.get(Dataset, i) for i in {r.dataset_id for r in rows}) if d is not None}
    names = catalogue.department_names(
        session, {r.department_id for r in rows} | {d.department_id for d in datasets.values()}
    )
    due = grants.state_due(session, rows)
    return [
        {
            "row": r,
            "dataset": datasets.get(r.dataset_id),
            "department": names.get(r.department_id, ""),
            "owner": names.get(datasets[r.dataset_id].department_id, "") if r.dataset_id in datasets else "",
            "due": due.get(r.id),
        }
        for r in rows
    ]


@router.get("/data/requests", response_class=HTMLResponse)
def requests_page(
    request: Request,
    session: DbSession,
    actor: PageActor,
    box: Annotated[str, Query(pattern="^(todo|mine)$")] = "todo",
    notice: Annotated[str | None, Query(max_length=16)] = None,
) -> HTMLResponse:
    if box == "todo" and not actor.can("dataset:approve"):
        box = "mine"
    rows, _total = grants.list_requests(session, actor, PageParams(page=1, size=100), box=box)
    return render(
        request,
        "hub/catalogue/requests.html",
        common(
            box=box,
            items=_request_rows(session, rows),
            can_approve=actor.can("dataset:approve"),
            notice=_notice(notice),
            errors={},
        ),
    )


async def _form(request: Request) -> dict[str, list[str]]:
    form = await request.form()
    out: dict[str, list[str]] = {}
    for key, value in form.multi_items():
        if isinstance(value, str):
            out.setdefault(key, []).append(value)
    return out


def _first(raw: dict[str, list[str]], key: str) -> str:
    return (raw.get(key) or [""])[0].strip()


@router.post("/data/requests/{request_id}/approve", response_class=HTMLResponse)
async def approve_page(request_id: int, request: Request, session: DbSession, actor: PageActor) -> Response:
    raw = await _form(request)
    days = _first(raw, "days")
    try:
        grants.approve(
            session,
            actor,
            request_id,
            fields=raw.get("fields", []),
            masked=raw.get("masked", []),
            days=int(days) if days.isdigit() else 0,
            comment=_first(raw, "comment") or None,
        )
    except DomainError as exc:
        return _requests_with_errors(request, session, actor, exc)
    return _see_other("/data/requests?box=todo&notice=approved")


@router.post("/data/requests/{request_id}/refuse", response_class=HTMLResponse)
async def refuse_page(request_id: int, request: Request, session: DbSession, actor: PageActor) -> Response:
    raw = await _form(request)
    try:
        grants.refuse(session, actor, request_id, reason=_first(raw, "reason"))
    except DomainError as exc:
        return _requests_with_errors(request, session, actor, exc)
    return _see_other("/data/requests?box=todo&notice=refused")


def _requests_with_errors(request: Request, session: DbSession, actor: Any, exc: DomainError) -> HTMLResponse:
    errors = refused(request, session, actor, exc)
    rows, _total = grants.list_requests(session, actor, PageParams(page=1, size=100), box="todo")
    return render(
        request,
        "hub/catalogue/requests.html",
        common(box="todo", items=_request_rows(session, rows), can_approve=True, notice=None, errors=errors),
        status_code=422,
    )


@router.get("/data/grants", response_class=HTMLResponse)
def grants_page(
    request: Request,
    session: DbSession,
    actor: PageActor,
    box: Annotated[str, Query(pattern="^(held|given)$")] = "held",
    notice: Annotated[str | None, Query(max_length=16)] = None,
) -> HTMLResponse:
    rows, _total = grants.list_grants(session, actor, PageParams(page=1, size=100), box=box)
    datasets = {d.id: d for d in (session.get(Dataset, i) for i in {g.dataset_id for g in rows}) if d is not None}
    names = catalogue.department_names(session, {g.department_id for g in rows})
    return render(
        request,
        "hub/catalogue/grants.html",
        common(
            box=box,
            items=[
                {"grant": g, "dataset": datasets.get(g.dataset_id), "department": names.get(g.department_id, "")}
                for g in rows
            ],
            can_revoke=actor.can("dataset:approve"),
            owns=lambda d: d is not None and catalogue.owns(actor, d),
            notice=_notice(notice),
        ),
    )


@router.post("/data/grants/{grant_id}/revoke", response_class=HTMLResponse)
async def revoke_page(grant_id: int, request: Request, session: DbSession, actor: PageActor) -> Response:
    raw = await _form(request)
    try:
        grants.revoke(session, actor, grant_id, reason=_first(raw, "reason") or "—")
    except DomainError as exc:
        if exc.details:
            refused(request, session, actor, exc)
            return _see_other("/data/grants?box=given")
        raise
    return _see_other("/data/grants?box=given&notice=revoked")


@router.get("/data/readlog", response_class=HTMLResponse)
def readlog_page(
    request: Request,
    session: DbSession,
    actor: PageActor,
    dataset: Annotated[str, Query(max_length=64)] = "",
    page: Annotated[int, Query(ge=1)] = 1,
) -> HTMLResponse:
    params = PageParams(page=page, size=50)
    rows, total = readlog.entries(session, actor, params, dataset_code=dataset or None)
    report = readlog.verify_chain(session) if readlog.may_verify(actor) else None
    names = catalogue.department_names(session, {r.department_id for r in rows if r.department_id is not None})
    return render(
        request,
        "hub/catalogue/readlog.html",
        common(
            items=rows,
            total=total or 0,
            page=page,
            pages=max(1, -(-(total or 0) // params.size)),
            dataset=dataset,
            report=report,
            departments=names,
        ),
    )


# --- one dataset -------------------------------------------------------------------------------------


@router.get("/data/{code}", response_class=HTMLResponse)
def dataset_page(
    code: str,
    request: Request,
    session: DbSession,
    actor: PageActor,
    sample: Annotated[int, Query(ge=0, le=1)] = 0,
    notice: Annotated[str | None, Query(max_length=16)] = None,
) -> HTMLResponse:
    dataset = catalogue.get_dataset(session, actor, code)
    return _dataset_page(request, session, actor, dataset, sample=bool(sample), notice=_notice(notice))


def _dataset_page(
    request: Request,
    session: DbSession,
    actor: Any,
    dataset: Dataset,
    *,
    sample: bool = False,
    notice: str | None = None,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    access = records.may_read(session, actor, dataset)
    rows: list[dict[str, Any]] | None = None
    if sample and access is not None:
        result = records.read_records(
            session,
            actor,
            dataset.code,
            limit=SAMPLE_ROWS,
            channel="page",
            upload_dir=get_runtime(request).settings.upload_dir,
        )
        rows, access = result.items, result.access
    usage = records.usage(session, actor, dataset.code)
    owner = catalogue.owns(actor, dataset)
    waiting = None
    if actor.department_id is not None and not owner:
        mine, _ = grants.list_requests(session, actor, PageParams(page=1, size=100), box="mine")
        waiting = next((r for r in mine if r.dataset_id == dataset.id and r.status in ("pending", "second")), None)
    given: list[Any] = []
    if owner and actor.can("dataset:approve"):
        given, _ = grants.list_grants(
            session, actor, PageParams(page=1, size=50), box="given", dataset_code=dataset.code
        )
    names = catalogue.department_names(session, {dataset.department_id} | {g.department_id for g in given})
    chart = {
        "days": [d[0][5:] for d in usage.days],
        "reads": [d[1] for d in usage.days],
        "rows": [d[2] for d in usage.days],
    }
    return render(
        request,
        "hub/catalogue/dataset.html",
        common(
            dataset=dataset,
            owner_name=names.get(dataset.department_id, ""),
            access=access,
            rows=rows,
            usage=usage,
            chart=json.dumps(chart),
            is_owner=owner,
            can_request=(
                actor.can("dataset:request")
                and actor.department_id is not None
                and not owner
                and dataset.access_class != "open"
                and access is None
                and waiting is None
            ),
            waiting=waiting,
            given=given,
            departments=names,
            notice=notice,
            errors=errors or {},
            values=values or {"days": 90},
            max_days=grants.MAX_DAYS,
        ),
        status_code=status_code,
    )


@router.post("/data/{code}/request", response_class=HTMLResponse)
async def request_page(code: str, request: Request, session: DbSession, actor: PageActor) -> Response:
    raw = await _form(request)
    days = _first(raw, "days")
    purpose = _first(raw, "purpose")
    values: dict[str, Any] = {"purpose": purpose, "days": days, "fields": raw.get("fields", [])}
    try:
        grants.request_access(
            session,
            actor,
            code,
            purpose=purpose,
            fields=raw.get("fields") or None,
            days=int(days) if days.isdigit() else 0,
        )
    except DomainError as exc:
        errors = refused(request, session, actor, exc)
        dataset = catalogue.get_dataset(session, actor, code)
        return _dataset_page(request, session, actor, dataset, errors=errors, values=values, status_code=422)
    return _see_other(f"/data/{code}?notice=requested")


@router.post("/data/{code}/withdraw", response_class=HTMLResponse)
def withdraw_page(code: str, session: DbSession, actor: PageActor) -> Response:
    try:
        catalogue.withdraw_dataset(session, actor, code)
    except Forbidden as exc:
        raise NotFound() from exc
    return _see_other(f"/data/{code}?notice=withdrawn")
