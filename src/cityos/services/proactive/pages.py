"""Pages of 服务找人: the resident's offers (what, why, 一键申请, 不需要) and the operators' rule
switchboard; templates in web/templates/services/proactive/."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from cityos.core.actor import Actor
from cityos.core.http import DbSession
from cityos.core.i18n import N_, translate
from cityos.services.proactive import service
from cityos.services.proactive.models import Offer, OfferStatus
from cityos.web.shell import PageActor
from cityos.web.templating import render

router = APIRouter(include_in_schema=False)

NOTICES = {
    "dismissed": N_("Done. We will not offer this again."),
}
STATUS_VIEWS = {
    "offered": N_("For you"),
    "applied": N_("Applied"),
    "dismissed": N_("Not needed"),
}


@dataclass(frozen=True)
class OfferCard:
    """What an offer card shows (``_offers.html``)."""

    id: int
    title: str
    reason: str
    status: str
    guide_url: str
    application_id: int | None
    continue_url: str | None  # a draft the first tap started, to finish


def cards(offers: list[Offer]) -> list[OfferCard]:
    out = []
    for o in offers:
        guide = f"/services/items/{o.item_code}" if o.item_code else f"/services/bundles/{o.bundle_code}"
        draft = o.status == OfferStatus.OFFERED and o.application_id is not None and o.item_code is not None
        out.append(
            OfferCard(
                id=o.id,
                title=service.title_of(o),
                reason=service.reason_of(o),
                status=o.status,
                guide_url=guide,
                application_id=o.application_id,
                continue_url=f"/services/items/{o.item_code}/apply?draft={o.application_id}&offer={o.id}"
                if draft
                else None,
            )
        )
    return out


def offer_cards(session: Session, actor: Actor) -> list[OfferCard]:
    """The actor's open offers as cards, for any page that includes ``services/proactive/_offers.html``
    (the /services portal puts them in ``request.state.offers``)."""
    return cards(service.my_offers(session, actor))


@router.get("/offers", response_class=HTMLResponse)
def offers_page(
    request: Request,
    session: DbSession,
    actor: PageActor,
    status: Annotated[str, Query(max_length=16)] = "offered",
    notice: Annotated[str, Query(max_length=16)] = "",
) -> HTMLResponse:
    status = status if status in STATUS_VIEWS else "offered"
    rows = service.my_offers(session, actor, status=status)
    return render(
        request,
        "services/proactive/offers.html",
        {
            "offers": cards(rows),
            "status": status,
            "views": list(STATUS_VIEWS.items()),
            "notice": NOTICES.get(notice),
            "offers_heading_hidden": True,
        },
    )


@router.post("/offers/{offer_id}/apply")
def apply_offer(offer_id: int, request: Request, session: DbSession, actor: PageActor) -> Response:
    """一键申请: straight to the application when the form could be filled; otherwise to the
    apply page, pre-filled, to add what is missing."""
    result = service.apply(session, actor, offer_id=offer_id)
    url = f"{result.next_url}?applied=1" if result.complete else result.next_url
    return RedirectResponse(url, status_code=303)


@router.post("/offers/{offer_id}/dismiss")
def dismiss_offer(offer_id: int, request: Request, session: DbSession, actor: PageActor) -> Response:
    service.dismiss(session, actor, offer_id=offer_id)
    return RedirectResponse("/offers?notice=dismissed", status_code=303)


@router.get("/admin/proactive", response_class=HTMLResponse)
def rules_page(request: Request, session: DbSession, actor: PageActor) -> HTMLResponse:
    """The rules of 服务找人: what each offers, its numbers, how many offers it made, on/off."""
    actor.require("service:write")
    rows = service.list_rules(session, actor)
    return render(
        request,
        "services/proactive/rules.html",
        {
            "rules": [
                {
                    "row": r,
                    "title": translate(r.title),
                    "description": translate(r.description, **r.params),
                }
                for r in rows
            ],
            "counts": service.rule_counts(session, actor),
            "statuses": STATUS_VIEWS,
        },
    )


@router.post("/admin/proactive/{rule_key}")
def switch_rule(
    rule_key: str,
    request: Request,
    session: DbSession,
    actor: PageActor,
    active: Annotated[str, Form(max_length=1)] = "",
) -> Response:
    service.set_rule_active(session, actor, key=rule_key, active={"1": True, "0": False}.get(active, active))
    return RedirectResponse("/admin/proactive", status_code=303)
