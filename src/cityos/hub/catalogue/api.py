"""JSON routes of the data catalogue: datasets, access requests, grants, records, usage and the
read log."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from cityos.core.errors import Forbidden
from cityos.core.http import DbSession, get_runtime
from cityos.core.pagination import PageQuery
from cityos.hub.catalogue import grants, readlog, records
from cityos.hub.catalogue import service as catalogue
from cityos.hub.catalogue.models import DataGrant, DataRequest, Dataset
from cityos.hub.catalogue.schemas import (
    ApproveIn,
    ChainRead,
    DatasetCreate,
    DatasetPage,
    DatasetRead,
    DatasetUpdate,
    GrantPage,
    GrantRead,
    ReadLogPage,
    RecordsRead,
    RefuseIn,
    RequestCreate,
    RequestPage,
    RequestRead,
    RevokeIn,
    UsageDay,
    UsageRead,
)
from cityos.identity.deps import CurrentActor

router = APIRouter(prefix="/api/v1", tags=["hub"])

Text = Annotated[str | None, Query(max_length=100)]


def request_views(session: DbSession, rows: list[DataRequest]) -> list[RequestRead]:
    datasets = {d.id: d for d in (session.get(Dataset, i) for i in {r.dataset_id for r in rows}) if d is not None}
    due = grants.state_due(session, rows)
    out = []
    for row in rows:
        view = RequestRead.model_validate(row)
        dataset = datasets.get(row.dataset_id)
        view.dataset_code = dataset.code if dataset else ""
        view.dataset_name = dataset.name if dataset else ""
        view.state_due_at = due.get(row.id)
        out.append(view)
    return out


@router.get("/datasets", response_model=DatasetPage)
def list_datasets(
    session: DbSession,
    actor: CurrentActor,
    params: PageQuery,
    q: Text = None,
    access_class: Text = None,
    tag: Text = None,
    department_id: int | None = None,
    mine: bool = False,
) -> DatasetPage:
    rows, total = catalogue.search(
        session, actor, params, q=q, access_class=access_class, tag=tag, department_id=department_id, mine=mine
    )
    return DatasetPage(
        items=[DatasetRead.model_validate(r) for r in rows], page=params.page, size=params.size, total=total
    )


@router.post("/datasets", response_model=DatasetRead, status_code=201)
def create_dataset(body: DatasetCreate, request: Request, session: DbSession, actor: CurrentActor) -> Dataset:
    data = body.model_dump(exclude={"fields", "file_text"})
    fields = [f.model_dump() for f in body.fields] if body.fields is not None else None
    file = body.file_text.encode("utf-8") if body.file_text else None
    upload_dir = get_runtime(request).settings.upload_dir
    return catalogue.create_dataset(session, actor, fields=fields, file=file, upload_dir=upload_dir, **data)


@router.get("/datasets/{dataset_code}", response_model=DatasetRead)
def get_dataset(dataset_code: str, session: DbSession, actor: CurrentActor) -> Dataset:
    return catalogue.get_dataset(session, actor, dataset_code)


@router.patch("/datasets/{dataset_code}", response_model=DatasetRead)
def update_dataset(dataset_code: str, body: DatasetUpdate, session: DbSession, actor: CurrentActor) -> Dataset:
    changes: dict[str, Any] = body.model_dump(exclude_unset=True, exclude={"fields"})
    if body.fields is not None:
        changes["fields"] = [f.model_dump() for f in body.fields]
    return catalogue.update_dataset(session, actor, dataset_code, changes)


@router.post("/datasets/{dataset_code}/withdraw", response_model=DatasetRead)
def withdraw_dataset(dataset_code: str, session: DbSession, actor: CurrentActor) -> Dataset:
    return catalogue.withdraw_dataset(session, actor, dataset_code)


@router.put("/datasets/{dataset_code}/file", response_model=DatasetRead)
async def replace_file(
    dataset_code: str,
    request: Request,
    session: DbSession,
    actor: CurrentActor,
    name: Annotated[str, Query(min_length=1, max_length=255)] = "data.csv",
) -> Dataset:
    """The raw CSV or JSON bytes in the body: a new version of a file dataset."""
    data = await request.body()
    upload_dir = get_runtime(request).settings.upload_dir
    return catalogue.replace_file(session, actor, dataset_code, data=data, file_name=name, upload_dir=upload_dir)


@router.post("/datasets/{dataset_code}/requests", response_model=RequestRead, status_code=201)
def request_access(dataset_code: str, body: RequestCreate, session: DbSession, actor: CurrentActor) -> RequestRead:
    row = grants.request_access(session, actor, dataset_code, purpose=body.purpose, fields=body.fields, days=body.days)
    return request_views(session, [row])[0]


@router.get("/datasets/{dataset_code}/records", response_model=RecordsRead)
def read_records(
    dataset_code: str,
    request: Request,
    session: DbSession,
    actor: CurrentActor,
    offset: Annotated[int, Query()] = 0,
    limit: Annotated[int, Query()] = 50,
) -> RecordsRead:
    upload_dir = get_runtime(request).settings.upload_dir
    result = records.read_records(session, actor, dataset_code, offset=offset, limit=limit, upload_dir=upload_dir)
    return RecordsRead(
        dataset=result.dataset.code,
        fields=result.access.fields,
        masked=sorted(result.access.masked & set(result.access.fields)),
        grant_id=result.access.grant.id if result.access.grant else None,
        offset=result.offset,
        limit=result.limit,
        total=result.total,
        items=result.items,
    )


@router.get("/datasets/{dataset_code}/export")
def export_records(dataset_code: str, request: Request, session: DbSession, actor: CurrentActor) -> Response:
    text, result = records.export_csv(session, actor, dataset_code, upload_dir=get_runtime(request).settings.upload_dir)
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{result.dataset.code}.csv"'},
    )


@router.get("/datasets/{dataset_code}/usage", response_model=UsageRead)
def dataset_usage(dataset_code: str, session: DbSession, actor: CurrentActor) -> UsageRead:
    found = records.usage(session, actor, dataset_code)
    return UsageRead(
        dataset=dataset_code,
        reads=found.reads,
        rows=found.rows,
        departments=found.departments,
        days=[UsageDay(day=d, reads=n, rows=r) for d, n, r in found.days],
    )


@router.get("/data-usage/top", response_model=list[UsageDay])
def top_datasets(session: DbSession, actor: CurrentActor) -> list[UsageDay]:
    """The most read datasets of the last 30 days (``day`` holds the dataset's code)."""
    actor.require("dataset:read")
    return [UsageDay(day=code, reads=n, rows=r) for code, n, r in records.top_datasets(session)]


@router.get("/data-requests", response_model=RequestPage)
def list_requests(
    session: DbSession,
    actor: CurrentActor,
    params: PageQuery,
    box: Annotated[str, Query(pattern="^(all|mine|todo)$")] = "all",
) -> RequestPage:
    rows, total = grants.list_requests(session, actor, params, box=box)
    return RequestPage(items=request_views(session, rows), page=params.page, size=params.size, total=total)


@router.get("/data-requests/{data_request_id}", response_model=RequestRead)
def get_request(data_request_id: int, session: DbSession, actor: CurrentActor) -> RequestRead:
    return request_views(session, [grants.get_request(session, actor, data_request_id)])[0]


@router.post("/data-requests/{data_request_id}/approve", response_model=RequestRead)
def approve_request(data_request_id: int, body: ApproveIn, session: DbSession, actor: CurrentActor) -> RequestRead:
    row = grants.approve(
        session, actor, data_request_id, fields=body.fields, masked=body.masked, days=body.days, comment=body.comment
    )
    return request_views(session, [row])[0]


@router.post("/data-requests/{data_request_id}/refuse", response_model=RequestRead)
def refuse_request(data_request_id: int, body: RefuseIn, session: DbSession, actor: CurrentActor) -> RequestRead:
    return request_views(session, [grants.refuse(session, actor, data_request_id, reason=body.reason)])[0]


@router.post("/data-requests/{data_request_id}/cancel", response_model=RequestRead)
def cancel_request(data_request_id: int, session: DbSession, actor: CurrentActor) -> RequestRead:
    return request_views(session, [grants.cancel(session, actor, data_request_id)])[0]


@router.get("/data-grants", response_model=GrantPage)
def list_grants(
    session: DbSession,
    actor: CurrentActor,
    params: PageQuery,
    box: Annotated[str, Query(pattern="^(all|held|given)$")] = "all",
    dataset: Text = None,
) -> GrantPage:
    rows, total = grants.list_grants(session, actor, params, box=box, dataset_code=dataset)
    return GrantPage(items=[GrantRead.model_validate(r) for r in rows], page=params.page, size=params.size, total=total)


@router.post("/data-grants/{data_grant_id}/revoke", response_model=GrantRead)
def revoke_grant(data_grant_id: int, body: RevokeIn, session: DbSession, actor: CurrentActor) -> DataGrant:
    return grants.revoke(session, actor, data_grant_id, reason=body.reason)


@router.get("/data-readlog", response_model=ReadLogPage)
def list_readlog(session: DbSession, actor: CurrentActor, params: PageQuery, dataset: Text = None) -> ReadLogPage:
    rows, total = readlog.entries(session, actor, params, dataset_code=dataset)
    return ReadLogPage(items=rows, page=params.page, size=params.size, total=total)


@router.get("/data-readlog/verify", response_model=ChainRead)
def verify_readlog(session: DbSession, actor: CurrentActor) -> ChainRead:
    if not readlog.may_verify(actor):
        raise Forbidden(params={"permission": "audit:read"})
    report = readlog.verify_chain(session)
    return ChainRead(
        ok=report.ok,
        checked=report.checked,
        first_bad_seq=report.first_bad_seq,
        first_bad_id=report.first_bad_id,
        problem=report.problem,
    )
