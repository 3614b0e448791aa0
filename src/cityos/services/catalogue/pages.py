"""Pages of services.catalogue: the 掌上办事 portal, the 办事指南 of an item and of a 一件事 bundle,
the catalogue admin page (items, bundles, import/export, local sites) and service statistics."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from cityos.core.actor import Actor
from cityos.core.db import utcnow
from cityos.core.errors import DomainError, FieldError, Invalid
from cityos.core.http import DbSession
from cityos.core.i18n import N_, translate
from cityos.places.models import Region
from cityos.services import stats
from cityos.services.catalogue import service, transfer
from cityos.services.catalogue.models import ServiceItem
from cityos.services.catalogue.schemas import LocalSiteIn
from cityos.services.proactive.pages import offer_cards
from cityos.web.forms import refused
from cityos.web.shell import PageActor, current_region
from cityos.web.templating import render

router = APIRouter(include_in_schema=False)

MAX_IMPORT_BYTES = 8 * 1024 * 1024
MSG_JSON = N_("This is not valid JSON: {problem}")

KIND_LABELS = {
    "licence": N_("Administrative licence"),
    "confirmation": N_("Administrative confirmation"),
    "payment": N_("Administrative payment"),
    "public_service": N_("Public service"),
    "other": N_("Other"),
}
DEPTH_LABELS = {
    "full_online": N_("Fully online"),
    "at_most_once": N_("At most one visit"),
    "counter": N_("At the counter"),
}
CHANNEL_LABELS = {"online": N_("Online"), "counter": N_("Counter"), "kiosk": N_("Self-service kiosk")}
AUDIENCE_LABELS = {"person": N_("For individuals"), "business": N_("For businesses")}


def _department_name(session: Session, kind: str, region: Region | None) -> str:
    if region is not None:
        department = service.department_for(session, kind=kind, region=region)
        if department is not None:
            return department.name
    return translate(service.DEPARTMENT_KINDS.get(kind, kind))


def _groups(session: Session, items: list[ServiceItem], region: Region | None) -> list[dict[str, Any]]:
    """Items by audience (个人/法人), then by their first department."""
    out: list[dict[str, Any]] = []
    names: dict[str, str] = {}
    for audience, label in AUDIENCE_LABELS.items():
        departments: dict[str, list[ServiceItem]] = {}
        for item in items:
            if item.audience != audience:
                continue
            kind = (item.department_kinds or ["other"])[0]
            if kind not in names:
                names[kind] = _department_name(session, kind, region)
            departments.setdefault(names[kind], []).append(item)
        if departments:
            out.append({"audience": audience, "label": label, "departments": sorted(departments.items())})
    return out


@router.get("/services", response_class=HTMLResponse)
def portal(
    request: Request,
    session: DbSession,
    actor: PageActor,
    q: Annotated[str, Query(max_length=64)] = "",
) -> HTMLResponse:
    """掌上办事: search, the 一件事 bundles, items by theme and department, the local site's branding."""
    actor.require("service:read")
    region = current_region(request, session, actor)
    site = service.local_site_for(session, region) if region is not None else None
    items = service.list_items(session, actor, region=region, q=q or None)
    return render(
        request,
        "services/catalogue/portal.html",
        {
            "site": site,
            "q": q,
            "bundles": service.list_bundles(session, actor) if not q else [],
            "groups": _groups(session, items, region),
            "found": len(items),
            "offers": offer_cards(session, actor) if actor.can("application:submit") else [],
        },
    )


def _item_context(session: Session, item: ServiceItem, region: Region | None) -> dict[str, Any]:
    return {
        "item": item,
        "departments": [_department_name(session, k, region) for k in item.department_kinds],
        "kind_label": KIND_LABELS.get(item.kind, item.kind),
        "depth_label": DEPTH_LABELS.get(item.online_depth, item.online_depth),
        "channel_labels": [CHANNEL_LABELS.get(c, c) for c in item.channels],
        "guide": [p for p in item.guide.split("\n\n") if p.strip()],
    }


@router.get("/services/items/{code}", response_class=HTMLResponse)
def item_page(code: str, request: Request, session: DbSession, actor: PageActor) -> HTMLResponse:
    """办事指南: conditions, materials (those e-licences prove are 免提交), limits, fee, channels, guide."""
    actor.require("service:read")
    item = service.get_item(session, code)
    region = current_region(request, session, actor)
    context = _item_context(session, item, region)
    return render(request, "services/catalogue/item.html", {**context, "c": context})


@router.get("/services/bundles/{code}", response_class=HTMLResponse)
def bundle_page(code: str, request: Request, session: DbSession, actor: PageActor) -> HTMLResponse:
    actor.require("service:read")
    bundle = service.get_bundle(session, code)
    region = current_region(request, session, actor)
    items = [_item_context(session, i, region) for i in service.bundle_items(session, bundle)]
    return render(request, "services/catalogue/bundle.html", {"bundle": bundle, "items": items})


# --- statistics ------------------------------------------------------------------------------------------


@router.get("/services/stats", response_class=HTMLResponse)
def stats_page(
    request: Request,
    session: DbSession,
    actor: PageActor,
    days: Annotated[int, Query(ge=1, le=3660)] = 30,
) -> HTMLResponse:
    region = current_region(request, session, actor)
    report = stats.report(
        session, actor, region_id=region.id if region else None, since=utcnow() - timedelta(days=days)
    )
    return render(request, "services/catalogue/stats.html", {"report": report, "days": days})


# --- admin -----------------------------------------------------------------------------------------------


def _admin(
    request: Request,
    session: Session,
    actor: Actor,
    *,
    item_json: str = "",
    bundle_json: str = "",
    errors: list[str] | None = None,
    form: str = "",
    notice: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    actor.require("service:write")
    return render(
        request,
        "services/catalogue/admin.html",
        {
            "items": service.list_items(session, actor),
            "bundles": service.list_bundles(session, actor),
            "sites": service.list_local_sites(session, actor),
            "item_json": item_json,
            "bundle_json": bundle_json,
            "errors": errors or [],
            "form": form,
            "notice": notice,
        },
        status_code=status_code,
    )


def _listed(exc: DomainError) -> list[str]:
    """Every problem as one line: 'field: message' in the request's language."""
    return [f"{d.field}: {translate(d.message, **d.params)}" for d in exc.details] or [
        translate(exc.message, **exc.params)
    ]


def _refused(request: Request, session: Session, actor: Actor, exc: DomainError, **kwargs: Any) -> HTMLResponse:
    if not exc.details:
        raise exc
    refused(request, session, actor, exc)
    return _admin(request, session, actor, errors=_listed(exc), status_code=exc.status_code, **kwargs)


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as exc:
        raise Invalid(details=[FieldError("json", MSG_JSON, {"problem": str(exc)[:200]})]) from exc


@router.get("/admin/services", response_class=HTMLResponse)
def admin(
    request: Request,
    session: DbSession,
    actor: PageActor,
    edit: Annotated[str, Query(max_length=32)] = "",
    bundle: Annotated[str, Query(max_length=32)] = "",
    saved: Annotated[str, Query(max_length=64)] = "",
) -> HTMLResponse:
    """Edit items and bundles by pasting JSON (every problem listed), import/export, local sites."""
    actor.require("service:write")
    item_json = bundle_json = ""
    if edit:
        record = {k: getattr(service.get_item(session, edit), k) for k in service.ITEM_FIELDS}
        item_json = json.dumps(record, ensure_ascii=False, indent=2)
    if bundle:
        found = service.get_bundle(session, bundle)
        bundle_json = json.dumps({k: getattr(found, k) for k in service.BUNDLE_FIELDS}, ensure_ascii=False, indent=2)
    notice = translate(N_("Saved: {what}"), what=saved) if saved else None
    return _admin(request, session, actor, item_json=item_json, bundle_json=bundle_json, notice=notice)


@router.post("/admin/services/items", response_class=HTMLResponse)
def admin_save_item(
    request: Request,
    session: DbSession,
    actor: PageActor,
    record: Annotated[str, Form(max_length=200_000)] = "",
) -> Response:
    try:
        item = service.save_item(session, actor, _json(record))
    except DomainError as exc:
        return _refused(request, session, actor, exc, item_json=record, form="item")
    return RedirectResponse(f"/admin/services?saved={item.code}", status_code=303)


@router.post("/admin/services/bundles", response_class=HTMLResponse)
def admin_save_bundle(
    request: Request,
    session: DbSession,
    actor: PageActor,
    record: Annotated[str, Form(max_length=50_000)] = "",
) -> Response:
    try:
        bundle = service.save_bundle(session, actor, _json(record))
    except DomainError as exc:
        return _refused(request, session, actor, exc, bundle_json=record, form="bundle")
    return RedirectResponse(f"/admin/services?saved={bundle.code}", status_code=303)


@router.post("/admin/services/import", response_class=HTMLResponse)
def admin_import(
    request: Request,
    session: DbSession,
    actor: PageActor,
    format: Annotated[str, Form(max_length=8)] = "json",
    file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    content = file.file.read(MAX_IMPORT_BYTES + 1) if file is not None else b""
    try:
        if len(content) > MAX_IMPORT_BYTES:
            raise Invalid(details=[FieldError("file", N_("The file is larger than {mb} MB."), {"mb": 8})])
        written = transfer.import_items(session, actor, content, format)
    except DomainError as exc:
        return _refused(request, session, actor, exc, form="import")
    return RedirectResponse(f"/admin/services?saved={written}", status_code=303)


@router.post("/admin/services/sites", response_class=HTMLResponse)
def admin_save_site(
    request: Request,
    session: DbSession,
    actor: PageActor,
    region_id: Annotated[int, Form()],
    site_name: Annotated[str, Form(max_length=200)] = "",
    theme_color: Annotated[str, Form(max_length=16)] = "#1f6feb",
    banner: Annotated[str, Form(max_length=4000)] = "",
    hidden: Annotated[str, Form(max_length=20_000)] = "",
) -> Response:
    codes = [c.strip() for c in hidden.replace("，", ",").replace("\n", ",").split(",") if c.strip()]
    try:
        try:
            data = LocalSiteIn(
                site_name=site_name.strip(), theme_color=theme_color, banner=banner, hidden_item_codes=codes
            )
        except ValidationError as exc:
            raise Invalid(details=service.pydantic_errors(exc)) from exc
        site = service.save_local_site(session, actor, region_id=region_id, data=data)
    except DomainError as exc:
        return _refused(request, session, actor, exc, form="site")
    return RedirectResponse(f"/admin/services?saved={site.site_name}", status_code=303)
