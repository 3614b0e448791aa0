"""The form builder page ``/emergency/campaigns/{id}/form``: add, remove and reorder questions
(text, number, single or multiple choice, yes/no, date), required flags and abnormal rules.

The page is one HTML form holding every question; moving, removing and adding re-render it
without storing anything, and "save" stores the questions as a new form version. Earlier
versions stay readable (``?version=``) and reports keep the version they answered.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from cityos.core.actor import Actor
from cityos.core.errors import DomainError
from cityos.core.http import DbSession
from cityos.emergency.campaigns import forms
from cityos.emergency.campaigns import service as campaigns
from cityos.emergency.campaigns.models import Campaign
from cityos.web.forms import refused
from cityos.web.shell import PageActor
from cityos.web.templating import render

router = APIRouter(include_in_schema=False)

_SPLIT = re.compile(r"[\n,，、;；]+")


def editable(q: forms.Question) -> dict[str, Any]:
    """A question as the builder's fields show it."""
    labels = dict(q.options)
    rule = q.abnormal or {}
    chosen = rule.get("in") or rule.get("any") or []
    return {
        "key": q.key,
        "kind": q.kind,
        "title": q.title,
        "required": q.required,
        "options": "\n".join(label for _, label in q.options),
        "values": "\n".join(f"{value}={label}" for value, label in q.options),
        "abnormal_choices": "、".join(labels.get(str(v), str(v)) for v in chosen),
        "gte": _num(rule.get("gte")),
        "lte": _num(rule.get("lte")),
        "minimum": _num(q.minimum),
        "maximum": _num(q.maximum),
        "yesno": "" if "equals" not in rule else ("yes" if rule["equals"] else "no"),
    }


def _num(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def from_post(raw: dict[str, list[str]]) -> tuple[list[dict[str, Any]], str]:
    """The builder's questions from its post, as ``forms.check_questions`` reads them, and the title."""

    def one(name: str) -> str:
        values = raw.get(name) or [""]
        return values[0].strip()

    count = int(one("count")) if one("count").isdigit() else 0
    out: list[dict[str, Any]] = []
    for n in range(min(count, forms.MAX_QUESTIONS + 5)):
        p = f"q{n}-"
        kind = one(p + "kind")
        known = dict(
            line.split("=", 1) for line in one(p + "values").splitlines() if "=" in line
        )  # value=label of the options the question had
        by_label = {label: value for value, label in known.items()}
        labels = [x.strip() for x in one(p + "options").splitlines() if x.strip()]
        question: dict[str, Any] = {
            "key": one(p + "key"),
            "kind": kind,
            "title": one(p + "title"),
            "required": one(p + "required") == "1",
            "options": [[by_label.get(label, ""), label] for label in labels],
            "minimum": one(p + "minimum"),
            "maximum": one(p + "maximum"),
        }
        if kind == "number":
            question["abnormal"] = {"gte": one(p + "gte"), "lte": one(p + "lte")}
        elif kind in ("single", "multiple"):
            chosen = [x.strip() for x in _SPLIT.split(one(p + "abnormal_choices")) if x.strip()]
            question["abnormal"] = {("in" if kind == "single" else "any"): chosen}
        elif kind == "yesno" and one(p + "yesno") in ("yes", "no"):
            question["abnormal"] = {"equals": one(p + "yesno") == "yes"}
        out.append(question)
    return out, one("title")


def _as_editable(question: dict[str, Any]) -> dict[str, Any]:
    """A posted question back into the builder's fields (when the page is shown again)."""
    rule = question.get("abnormal") or {}
    return {
        "key": question.get("key", ""),
        "kind": question.get("kind", "text"),
        "title": question.get("title", ""),
        "required": bool(question.get("required")),
        "options": "\n".join(label for _, label in question.get("options") or []),
        "values": "\n".join(f"{value}={label}" for value, label in question.get("options") or [] if value),
        "abnormal_choices": "、".join(rule.get("in") or rule.get("any") or []),
        "gte": str(rule.get("gte") or ""),
        "lte": str(rule.get("lte") or ""),
        "minimum": str(question.get("minimum") or ""),
        "maximum": str(question.get("maximum") or ""),
        "yesno": "" if "equals" not in rule else ("yes" if rule["equals"] else "no"),
    }


def _errors_by_question(errors: dict[str, str]) -> dict[int, dict[str, str]]:
    out: dict[int, dict[str, str]] = {}
    for name, message in errors.items():
        parts = name.split(".")
        if len(parts) >= 3 and parts[0] == "questions" and parts[1].isdigit():
            out.setdefault(int(parts[1]), {}).setdefault(parts[2], message)
        elif len(parts) == 2 and parts[0] == "questions" and parts[1].isdigit():
            out.setdefault(int(parts[1]), {}).setdefault("kind", message)
    return out


def _page(
    request: Request,
    session: Session,
    actor: Actor,
    campaign: Campaign,
    *,
    questions: list[dict[str, Any]],
    title: str,
    version: int | None = None,
    errors: dict[str, str] | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    from cityos.emergency.campaigns.pages import common

    errors = errors or {}
    viewing = campaigns.form_of(session, campaign, version) if version is not None else None
    return render(
        request,
        "emergency/campaigns/form_builder.html",
        common(
            campaign=campaign,
            questions=questions,
            title=title,
            kinds=forms.KINDS,
            kind_titles=forms.KIND_TITLES,
            versions=campaigns.form_versions(session, campaign),
            viewing=viewing,
            preview=forms.fields(viewing.schema) if viewing is not None else [],
            errors=errors,
            question_errors=_errors_by_question(errors),
            notice=notice,
            editable_form=campaign.status != "closed" and actor.can("campaign:manage", region=campaign.scope_path),
        ),
        status_code=status_code,
    )


@router.get("/emergency/campaigns/{campaign_id}/form", response_class=HTMLResponse)
def builder(
    campaign_id: int,
    request: Request,
    session: DbSession,
    actor: PageActor,
    version: Annotated[int | None, Query(ge=1, le=100_000)] = None,
    saved: Annotated[int | None, Query()] = None,
) -> HTMLResponse:
    campaign = campaigns.get_campaign(session, actor, campaign_id)
    campaigns.require_any(actor, campaigns.READ_PERMS)
    current = campaigns.form_of(session, campaign)
    from cityos.core.i18n import N_

    return _page(
        request,
        session,
        actor,
        campaign,
        questions=[editable(q) for q in forms.questions_of(current.schema)],
        title=str(current.schema.get("title") or ""),
        version=version,
        notice=N_("Saved as a new version of the form.") if saved else None,
    )


@router.post("/emergency/campaigns/{campaign_id}/form", response_class=HTMLResponse)
async def builder_post(campaign_id: int, request: Request, session: DbSession, actor: PageActor) -> Response:
    campaign = campaigns.get_campaign(session, actor, campaign_id)
    actor.require("campaign:manage", region=campaign.scope_path)
    form = await request.form()
    raw: dict[str, list[str]] = {}
    for key, value in form.multi_items():
        if isinstance(value, str):
            raw.setdefault(key, []).append(value)
    questions, title = from_post(raw)
    op = (raw.get("op") or [""])[0]
    verb, _, arg = op.partition(":")
    n = int(arg) if arg.isdigit() else -1
    if verb == "save":
        try:
            row = campaigns.save_form(session, actor, campaign_id=campaign.id, questions=questions, title=title)
        except DomainError as exc:
            errors = refused(request, session, actor, exc)
            campaign = campaigns.get_campaign(session, actor, campaign_id)
            return _page(
                request,
                session,
                actor,
                campaign,
                questions=[_as_editable(q) for q in questions],
                title=title,
                errors=errors,
                status_code=exc.status_code,
            )
        return RedirectResponse(f"/emergency/campaigns/{campaign.id}/form?saved={row.version}", status_code=303)
    if verb == "up" and 0 < n < len(questions):
        questions[n - 1], questions[n] = questions[n], questions[n - 1]
    elif verb == "down" and 0 <= n < len(questions) - 1:
        questions[n + 1], questions[n] = questions[n], questions[n + 1]
    elif verb == "remove" and 0 <= n < len(questions):
        questions.pop(n)
    elif verb == "add" and len(questions) < forms.MAX_QUESTIONS:
        kind = (raw.get("new_kind") or ["text"])[0]
        questions.append(
            {
                "key": forms.new_key([str(q.get("key")) for q in questions]),
                "kind": kind if kind in forms.KINDS else "text",
                "title": "",
                "required": False,
                "options": [],
            }
        )
    return _page(request, session, actor, campaign, questions=[_as_editable(q) for q in questions], title=title)
