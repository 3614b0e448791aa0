"""HTML pages of 一屏观社区; templates in web/templates/community/dashboard/.

``/community/dashboard`` shows the region of the switcher (or ``?region_id=``): the figures are
rendered on the server, the age pyramid and the 3D buildings are drawn by
``/community/dashboard.js`` from the same data (embedded, then refreshed from the JSON endpoint).
``/community/dashboard/buildings/{id}`` is the drill-down: a fragment for HTMX, a page otherwise.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from functools import lru_cache
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, Response

from cityos.community.dashboard import service
from cityos.community.dashboard.schemas import BuildingRead, DashboardRead
from cityos.core.http import DbSession
from cityos.core.settings import get_settings
from cityos.web.shell import PageActor
from cityos.web.templating import TEMPLATE_DIR, render

router = APIRouter(include_in_schema=False)

SCRIPT = TEMPLATE_DIR / "community" / "dashboard" / "dashboard.js"


@lru_cache(maxsize=1)
def _script() -> tuple[str, str]:
    text = SCRIPT.read_text(encoding="utf-8")
    return text, hashlib.sha256(text.encode()).hexdigest()[:12]


def _local(moment: datetime) -> str:
    return moment.astimezone(ZoneInfo(get_settings().timezone)).strftime("%Y-%m-%d %H:%M")


@router.get("/community/dashboard", response_class=HTMLResponse)
def dashboard_page(
    request: Request,
    session: DbSession,
    actor: PageActor,
    region_id: Annotated[int | None, Query(ge=1)] = None,
) -> HTMLResponse:
    chosen = region_id
    if chosen is None and getattr(request.state, "current_region", None) is not None:
        chosen = request.state.current_region.id
    dash = service.dashboard(session, actor, region_id=chosen)
    data = DashboardRead.model_validate(dash).model_dump(mode="json")
    context: dict[str, Any] = {
        "d": dash,
        "data": data,
        "generated": _local(dash.generated_at),
        "script_version": _script()[1],
        "can_cases": actor.can("case:read", region=dash.region.path),
    }
    return render(request, "community/dashboard/dashboard.html", context)


@router.get("/community/dashboard/buildings/{building_id}", response_class=HTMLResponse)
def building_page(
    building_id: Annotated[int, Path(ge=1)], request: Request, session: DbSession, actor: PageActor
) -> HTMLResponse:
    view = BuildingRead.model_validate(service.building(session, actor, building_id=building_id))
    fragment = bool(request.headers.get("hx-request"))
    template = "community/dashboard/_building.html" if fragment else "community/dashboard/building.html"
    return render(request, template, {"b": view, "can_people": actor.can("person:read")})


@router.get("/community/dashboard.js")
def dashboard_script() -> Response:
    text, version = _script()
    return Response(
        text,
        media_type="text/javascript; charset=utf-8",
        headers={"Cache-Control": "public, max-age=86400", "ETag": f'"{version}"'},
    )
