"""The resident's phone home page (/community, 社区首页): large cards for the entry pass, bills
due, open repairs, parcels waiting, notices, open votes, nearby services and the city's services
(一网通办).

Each card asks one part through its contract function (``access.service.my_passes``,
``property.service.my_bills`` / ``my_parcels``, ``governance.service.my_notices`` /
``my_open_votes``, ``cases.service.list_cases``, ``services.proactive.service.my_offers``). A
card whose part is missing or fails says it is unavailable; the others still show: each card
reads inside its own SAVEPOINT, so a failed query does not spoil the page's transaction.
Templates in web/templates/community/home/. The router is mounted by ``cityos.routes``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from cityos.community.commerce import orders, presentation, service
from cityos.core.actor import Actor
from cityos.core.http import DbSession
from cityos.core.i18n import N_, translate
from cityos.core.pagination import PageParams
from cityos.web.shell import PageActor
from cityos.web.templating import render

router = APIRouter(include_in_schema=False)
log = structlog.get_logger(__name__)

MAX_LINES = 3


@dataclass
class Line:
    text: str
    hint: str = ""
    href: str | None = None


@dataclass
class Card:
    """One card: ``state`` is ok (lines to show), empty (nothing now) or unavailable."""

    key: str
    title: str
    href: str
    empty: str  # what the card says when there is nothing
    state: str = "ok"
    count: int | None = None
    lines: list[Line] = field(default_factory=list)
    action: tuple[str, str] | None = None  # (label, href): the card's big button


def _contract(module: str, name: str) -> Callable[..., Any]:
    """A part's contract function; ``LookupError`` when the part does not provide it (yet)."""
    try:
        fn = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as exc:
        raise LookupError(f"{module}.{name}") from exc
    if not callable(fn):
        raise LookupError(f"{module}.{name}")
    return fn  # type: ignore[no-any-return]


def _label(obj: Any) -> str:
    for attr in ("title", "name", "label"):
        value = getattr(obj, attr, None)
        if isinstance(value, str) and value:
            return value
    return str(obj)


def _when(obj: Any, attr: str, msgid: str) -> str:
    moment = getattr(obj, attr, None)
    if not isinstance(moment, datetime):
        return ""
    return translate(msgid, when=presentation.local(moment, "%m-%d %H:%M"))


def _filled(card: Card, rows: list[Any], line: Callable[[Any], Line]) -> Card:
    card.count = len(rows)
    card.lines = [line(r) for r in rows[:MAX_LINES]]
    card.state = "ok" if rows else "empty"
    return card


def _pass_card(session: Session, actor: Actor) -> Card:
    card = Card("pass", N_("My entry pass"), "/community/pass", N_("You have no entry pass yet."))
    passes = _contract("cityos.community.access.service", "my_passes")(session, actor)
    card.action = (N_("Show my pass") if passes else N_("Get a pass"), "/community/pass")
    return _filled(card, passes, lambda p: Line(_label(p), _when(p, "valid_until", N_("Valid until {when}"))))


def _bills_card(session: Session, actor: Actor) -> Card:
    card = Card("bills", N_("Bills due"), "/community/bills", N_("No bills to pay."))
    bills = _contract("cityos.community.property.service", "my_bills")(session, actor, unpaid_only=True)

    def line(b: Any) -> Line:
        amount = getattr(b, "amount_fen", None)
        price = presentation.price_label(amount) if isinstance(amount, int) else ""
        due = _when(b, "due_at", N_("Due {when}"))
        return Line(_label(b), " · ".join(x for x in (price, due) if x))

    _filled(card, bills, line)
    if bills:
        card.action = (N_("Pay"), "/community/bills")
    return card


def _repairs_card(session: Session, actor: Actor) -> Card:
    card = Card("repairs", N_("My repairs"), "/cases?view=mine", N_("No repair in progress."))
    cases = importlib.import_module("cityos.cases.service")
    rows, total = cases.list_cases(
        session,
        actor,
        PageParams(page=1, size=MAX_LINES),
        cases.CaseFilter(mine=True, category_code="repair", open_only=True),
    )
    card.action = (N_("Report a repair"), "/cases/new")
    _filled(card, rows, lambda c: Line(c.title, c.no, f"/cases/{c.id}"))
    card.count = int(total if total is not None else len(rows))
    return card


def _parcels_card(session: Session, actor: Actor) -> Card:
    card = Card("parcels", N_("Parcels waiting"), "/community/parcels", N_("No parcel waiting for you."))
    parcels = _contract("cityos.community.property.service", "my_parcels")(session, actor)
    return _filled(card, parcels, lambda p: Line(_label(p), _when(p, "deposited_at", N_("Arrived {when}"))))


def _notices_card(session: Session, actor: Actor) -> Card:
    card = Card("notices", N_("Notices"), "/community/notices", N_("No new notices."))
    notices = _contract("cityos.community.governance.service", "my_notices")(session, actor, limit=5)
    return _filled(card, notices, lambda n: Line(_label(n), _when(n, "published_at", N_("Published {when}"))))


def _votes_card(session: Session, actor: Actor) -> Card:
    card = Card("votes", N_("Open votes"), "/community/votes", N_("No vote open for you."))
    votes = _contract("cityos.community.governance.service", "my_open_votes")(session, actor)
    _filled(card, votes, lambda v: Line(_label(v), _when(v, "closes_at", N_("Closes {when}"))))
    if votes:
        card.action = (N_("Vote"), "/community/votes")
    return card


def _shop_card(session: Session, actor: Actor) -> Card:
    card = Card("shop", N_("Nearby services"), "/shop", N_("Find housekeeping, repairs, fresh food and more nearby."))
    card.action = (N_("Find a service"), "/shop")
    point = orders.home_point(session, actor)
    if point is None:
        card.state = "empty"
        return card
    found = service.nearby(session, actor, lon=point[0], lat=point[1])
    _filled(
        card,
        found,
        lambda n: Line(
            n.offer.title,
            f"{presentation.distance(n.distance_m)} · {presentation.price_label(n.offer.price_fen, n.offer.unit)}",
            f"/shop/offers/{n.offer.id}",
        ),
    )
    return card


def _city_card(session: Session, actor: Actor) -> Card:
    card = Card("city", N_("City services"), "/services", N_("Apply for government services online (一网通办)."))
    card.action = (N_("Government services"), "/services")
    offers = _contract("cityos.services.proactive.service", "my_offers")(session, actor)
    card.lines = [Line(translate(N_("Services for you")), str(len(offers)), "/offers")]
    card.count = len(offers)
    card.state = "ok"
    return card


CARDS: tuple[Callable[[Session, Actor], Card], ...] = (
    _pass_card,
    _bills_card,
    _repairs_card,
    _parcels_card,
    _notices_card,
    _votes_card,
    _shop_card,
    _city_card,
)
FALLBACK: dict[str, tuple[str, str]] = {
    "_pass_card": (N_("My entry pass"), "/community/pass"),
    "_bills_card": (N_("Bills due"), "/community/bills"),
    "_repairs_card": (N_("My repairs"), "/cases?view=mine"),
    "_parcels_card": (N_("Parcels waiting"), "/community/parcels"),
    "_notices_card": (N_("Notices"), "/community/notices"),
    "_votes_card": (N_("Open votes"), "/community/votes"),
    "_shop_card": (N_("Nearby services"), "/shop"),
    "_city_card": (N_("City services"), "/services"),
}


def cards(session: Session, actor: Actor) -> list[Card]:
    """Every card, each built on its own: one that fails is shown as unavailable."""
    out = []
    for build in CARDS:
        try:
            with session.begin_nested():
                out.append(build(session, actor))
        except Exception as exc:  # a part that is missing or broken must not take the page down
            title, href = FALLBACK[build.__name__]
            log.warning("community.home_card_unavailable", card=build.__name__, error=type(exc).__name__)
            out.append(Card(build.__name__.strip("_").removesuffix("_card"), title, href, "", state="unavailable"))
    return out


@router.get("/community", response_class=HTMLResponse)
def home(request: Request, session: DbSession, actor: PageActor) -> HTMLResponse:
    resident = actor.person_id is not None
    homes = orders.homes(session, actor) if resident else []
    return render(
        request,
        "community/home/home.html",
        {
            "cards": cards(session, actor) if resident else [],
            "resident": resident,
            "address": homes[0].address if homes else "",
        },
    )
