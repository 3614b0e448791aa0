"""HTML pages of places: the region tree browser with its map."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from cityos.core.http import DbSession
from cityos.core.pagination import PageParams
from cityos.identity.deps import CurrentActor
from cityos.places import service
from cityos.web.shell import PageActor, current_region, page_actor
from cityos.web.templating import render

router = APIRouter(include_in_schema=False)

CHILDREN_PER_PAGE = 50


def _level_names() -> dict[str, str]:
    return {level: service.level_label(level) for level in service.LEVEL_LABELS}


@router.get("/places", response_class=HTMLResponse)
def places_home(request: Request, session: DbSession, actor: PageActor) -> Response:
    """The tree browser opens at the region chosen in the switcher (or the account's scope)."""
    region = current_region(request, session, actor)
    if region is None:
        return render(request, "places/no_region.html")
    return RedirectResponse(f"/places/{region.id}", status_code=303)


@router.get("/places/search", response_class=HTMLResponse)
def places_search(
    request: Request,
    session: DbSession,
    actor: PageActor,
    q: Annotated[str, Query(max_length=64)] = "",
) -> HTMLResponse:
    """Regions by name or code; HTMX asks for the result list only."""
    results = service.search(session, actor, q)
    context = {"q": q, "results": results, "level_names": _level_names()}
    if request.headers.get("hx-request"):
        return render(request, "places/_search_results.html", context)
    return render(request, "places/search.html", context)


@router.get("/places/{region_id}", response_class=HTMLResponse)
def region_page(
    region_id: int,
    request: Request,
    session: DbSession,
    actor: CurrentActor,
    page: Annotated[int, Query(ge=1)] = 1,
) -> HTMLResponse:
    # The scoped read comes before the layout loads the region switcher, so a 404 renders the
    # error page without the shell's (then rolled-back) region objects.
    view = service.overview(session, actor, region_id, PageParams(page=page, size=CHILDREN_PER_PAGE))
    page_actor(request, session, actor)
    total = view.children.total or 0
    return render(
        request,
        "places/region.html",
        {
            "view": view,
            "region": view.region,
            "level_names": _level_names(),
            "page": page,
            "pages": max(1, -(-total // CHILDREN_PER_PAGE)),
            "q": "",
            "results": [],
        },
    )
