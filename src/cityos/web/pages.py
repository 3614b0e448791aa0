"""Shell pages: the home page and preferences (language, 长辈模式, current region)."""

from __future__ import annotations

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from cityos.core.http import DbSession
from cityos.core.i18n import normalise
from cityos.identity.deps import optional_actor
from cityos.places.models import LEVELS
from cityos.web import home as home_figures
from cityos.web.shell import current_region, page_actor
from cityos.web.templating import ELDER_COOKIE, LANG_COOKIE, REGION_COOKIE, render

router = APIRouter(include_in_schema=False)

_YEAR = 365 * 24 * 3600


def _safe_next(value: str | None) -> str:
    # Only same-site relative paths, so the switcher cannot be used as an open redirect.
    if not value or not value.startswith("/") or value.startswith("//"):
        return "/"
    return value


@router.get("/prefs/lang")
def set_language(lang: str, next: str | None = None) -> RedirectResponse:
    response = RedirectResponse(_safe_next(next), status_code=303)
    locale = normalise(lang)
    if locale:
        response.set_cookie(LANG_COOKIE, locale, max_age=_YEAR, samesite="lax")
    return response


@router.get("/prefs/elder")
def set_elder_mode(on: str = "1", next: str | None = None) -> RedirectResponse:
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(ELDER_COOKIE, "1" if on == "1" else "0", max_age=_YEAR, samesite="lax")
    return response


@router.post("/prefs/region")
def set_region(request: Request, region_id: int = Form(...), next: str = Form("/")) -> RedirectResponse:
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(REGION_COOKIE, str(region_id), max_age=_YEAR, samesite="lax")
    return response


@router.get("/", response_class=HTMLResponse)
def home(request: Request, session: DbSession) -> HTMLResponse:
    """The 人地事物情 overview of the chosen region; a landing page before sign-in."""
    actor = optional_actor(request, session)
    if not actor.is_authenticated:
        return render(request, "web/landing.html")
    actor = page_actor(request, session, actor)
    region = current_region(request, session, actor)
    if region is None:
        return render(request, "web/home.html", {"region": None, "figures": None, **home_figures.labels()})
    figs = home_figures.figures(session, actor, region)
    return render(
        request,
        "web/home.html",
        {
            "region": region,
            "figures": figs,
            "levels": [lvl.value for lvl in LEVELS if lvl.value in figs.places],
            "care_tags": home_figures.CARE_TAGS,
            **home_figures.labels(),
        },
    )
