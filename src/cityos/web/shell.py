"""What every page needs around its content: the actor, the navigation, the current region.

A leaf module: it imports core, identity and places only, so every module's pages can use it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from cityos.core.actor import Actor
from cityos.core.http import DbSession
from cityos.core.i18n import N_
from cityos.identity.deps import current_actor
from cityos.places.models import LEVELS, Region
from cityos.web.templating import REGION_COOKIE


@dataclass(frozen=True)
class NavItem:
    href: str
    label: str
    permission: str | tuple[str, ...] | None  # shown when the actor holds any of them

    def shown_to(self, actor: Actor) -> bool:
        if self.permission is None:
            return True
        wanted = (self.permission,) if isinstance(self.permission, str) else self.permission
        return any(actor.can(p) for p in wanted)


NAV: tuple[NavItem, ...] = (
    NavItem("/", N_("Home"), None),
    NavItem("/cases", N_("Cases and reports"), "case:report"),
    NavItem("/command", N_("Command"), "case:read"),
    NavItem("/services", N_("Government services"), "service:read"),
    NavItem("/offers", N_("Services for you"), "application:submit"),
    NavItem("/applications", N_("Applications"), ("application:submit", "application:read")),
    NavItem("/wallet", N_("My e-licences"), "application:submit"),
    NavItem("/consult", N_("Ask a question"), "service:read"),
    NavItem("/services/stats", N_("Service statistics"), "service:stats"),
    NavItem("/admin/services", N_("Service catalogue"), "service:write"),
    NavItem("/admin/credentials", N_("Issue and revoke credentials"), "credential:issue"),
    NavItem("/community", N_("My community"), "pass:request"),
    NavItem("/shop", N_("Services in the neighbourhood"), "commerce:order"),
    NavItem("/community/dashboard", N_("Community dashboard"), "community:read"),
    NavItem("/community/office", N_("Community office"), ("notice:write", "vote:manage", "task:manage")),
    NavItem("/community/tasks", N_("Grid tasks"), "task:visit"),
    NavItem("/property", N_("Property"), ("property:manage", "access:read")),
    NavItem("/merchant", N_("My shop"), "commerce:sell"),
    NavItem("/emergency", N_("Emergency"), ("campaign:read", "campaign:manage")),
    NavItem("/emergency/tasks", N_("Campaign tasks"), "campaign:task"),
    NavItem("/emergency/command", N_("Emergency command"), "campaign:read"),
    NavItem("/emergency/addressbook", N_("Address book"), ("campaign:read", "campaign:task")),
    NavItem("/emergency/broadcasts", N_("Broadcasts"), "broadcast:send"),
    NavItem("/apps", N_("App square"), None),
    NavItem("/hub", N_("Data hub"), "hub:read"),
    NavItem("/hub/subscriptions", N_("Subscriptions"), "hub:subscribe"),
    NavItem("/hub/devices", N_("IoT devices"), "device:manage"),
    NavItem("/hub/ingest", N_("Ingest"), "device:manage"),
    NavItem("/data", N_("Data catalogue"), "dataset:read"),
    NavItem("/developer", N_("Developer portal"), "app:develop"),
    NavItem("/admin/apps", N_("Light apps"), "app:review"),
    NavItem("/tocc", N_("Traffic operations"), "traffic:read"),
    NavItem("/tocc/alerts", N_("Traffic alerts"), "traffic:read"),
    NavItem("/tocc/transit", N_("Buses"), "traffic:read"),
    NavItem("/tocc/hubs", N_("Transport hubs"), "traffic:read"),
    NavItem("/tocc/commute", N_("Commute corridors"), "traffic:read"),
    NavItem("/tocc/feeds", N_("Traffic feeds"), "traffic:manage"),
    NavItem("/places", N_("Places"), "region:read"),
    NavItem("/people", N_("Residents"), "person:read"),
    NavItem("/organisations", N_("Organisations"), "organisation:read"),
    NavItem("/departments", N_("Departments"), "department:read"),
    NavItem("/me", N_("My records"), "self:read"),
    NavItem("/notifications", N_("Notifications"), None),
    NavItem("/admin/accounts", N_("Accounts"), "account:read"),
    NavItem("/admin/audit", N_("Audit log"), "audit:read"),
    NavItem("/admin/clients", N_("Apps"), "client:write"),
    NavItem("/admin/processes", N_("Processes"), "process:read"),
    NavItem("/admin/calendar", N_("Calendar"), "process:read"),
    NavItem("/admin/sms", N_("SMS outbox"), "sms:read"),
)


@dataclass(frozen=True)
class RegionRef:
    """A detached copy of the current region for the layout: the request's transaction may be
    rolled back before the error page renders, and an expired ORM row would then reload."""

    id: int
    name: str
    level: str
    path: str


@dataclass(frozen=True)
class RegionChoice:
    id: int
    name: str
    indent: str


def current_region(request: Request, session: Session, actor: Actor) -> Region | None:
    """The region the user chose in the switcher, if it lies in their scope; else their scope."""
    chosen = request.cookies.get(REGION_COOKIE, "")
    if chosen.isdigit():
        region = session.get(Region, int(chosen))
        if region is not None and actor.covers(region):
            return region
    if actor.scope_region_id is not None:
        return session.get(Region, actor.scope_region_id)
    return None


def region_choices(session: Session, actor: Actor, current: Region | None) -> list[RegionChoice]:
    """The scope root, the path down to the current region, and the current region's children."""
    if actor.scope_region_id is None:
        return []
    ids = [int(p) for p in (current.path if current else "").strip("/").split("/") if p]
    scope_ids = [int(p) for p in actor.scope_path.strip("/").split("/") if p]
    chain_ids = ids[len(scope_ids) - 1 :] if scope_ids else ids
    chain = {r.id: r for r in session.scalars(select(Region).where(Region.id.in_(chain_ids)))}
    out = [RegionChoice(r.id, r.name, "· " * i) for i, r in enumerate(chain[i] for i in chain_ids if i in chain)]
    if current is not None and current.level in LEVELS[:5]:
        children = session.scalars(
            select(Region).where(Region.parent_id == current.id).order_by(Region.code).limit(200)
        ).all()
        depth = len(out)
        out.extend(RegionChoice(c.id, c.name, "· " * depth) for c in children)
    return out


def page_actor(request: Request, session: DbSession, actor: Annotated[Actor, Depends(current_actor)]) -> Actor:
    """Dependency for signed-in pages: fills the layout's navigation and region switcher."""
    region = current_region(request, session, actor)
    request.state.current_region = (
        RegionRef(region.id, region.name, region.level, region.path) if region is not None else None
    )
    request.state.region_choices = region_choices(session, actor, region)
    shown = [item for item in NAV if item.shown_to(actor)]
    path = request.url.path
    # The entry whose address is the longest prefix of this page's is the current one
    # (/services/stats is 办件统计, not also 政务服务).
    matches = [i.href for i in shown if path == i.href or (i.href != "/" and path.startswith(i.href + "/"))]
    current = max(matches, key=len, default=None)
    request.state.nav = [{"href": i.href, "label": i.label, "current": i.href == current} for i in shown]
    return actor


PageActor = Annotated[Actor, Depends(page_actor)]
