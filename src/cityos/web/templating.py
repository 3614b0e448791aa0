"""The Jinja2 environment shared by every module's pages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from cityos.core.i18n import current_locale, translate

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
STATIC_DIR = Path(__file__).resolve().parent / "static"

ELDER_COOKIE = "cityos_elder"
REGION_COOKIE = "cityos_region"
LANG_COOKIE = "cityos_lang"

templates = Jinja2Templates(directory=str(TEMPLATE_DIR))
templates.env.add_extension("jinja2.ext.i18n")


def _gettext(msgid: str, **params: Any) -> str:
    return translate(msgid, **params)


def _ngettext(singular: str, plural: str, n: int, **params: Any) -> str:
    return translate(singular if n == 1 else plural, n=n, **params)


templates.env.install_gettext_callables(_gettext, _ngettext, newstyle=True)  # type: ignore[attr-defined]


def render(
    request: Request, template: str, context: dict[str, Any] | None = None, status_code: int = 200
) -> HTMLResponse:
    ctx: dict[str, Any] = {
        "locale": current_locale.get(),
        "html_lang": "zh-CN" if current_locale.get() == "zh_CN" else "en",
        "elder_mode": request.cookies.get(ELDER_COOKIE) == "1",
        "actor": getattr(request.state, "actor", None),
        "nav": getattr(request.state, "nav", []),
        "current_region": getattr(request.state, "current_region", None),
        "region_choices": getattr(request.state, "region_choices", []),
        "path": request.url.path,
        "query": request.url.query,
    }
    if context:
        ctx.update(context)
    return templates.TemplateResponse(request, template, ctx, status_code=status_code)
