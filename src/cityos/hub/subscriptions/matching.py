"""Which subscriptions an entity change concerns (the hot path of every entity write).

Active subscriptions are compiled once (patterns, q, geo-query, the context's compaction) and
kept per tenant in memory: a tenant without subscriptions costs one dict look-up per write.
The cache is dropped for a tenant on every subscription write in this process and refreshed
after ``TTL`` seconds, so other server processes see a change within that time.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from cityos.hub.ngsi.changes import EntityChange
from cityos.hub.subscriptions.models import HubSubscription
from cityos.hub.subscriptions.spec import DEFAULT_TRIGGERS

TTL = 2.0


class Matcher(Protocol):
    def matches(self, entity: dict[str, Any]) -> bool: ...


@dataclass(frozen=True)
class Selector:
    type: str
    id: str | None = None
    pattern: re.Pattern[str] | None = None

    def matches(self, entity_id: str, entity_type: str) -> bool:
        if entity_type != self.type:
            return False
        if self.id is not None and entity_id != self.id:
            return False
        return self.pattern is None or self.pattern.fullmatch(entity_id) is not None


@dataclass
class Compiled:
    """One active subscription, ready to match."""

    pk: int
    subscription_id: str
    tenant: str
    endpoint_uri: str
    selectors: tuple[Selector, ...]
    watched: frozenset[str]
    triggers: frozenset[str]
    q: Matcher | None
    geo: Matcher | None
    throttling: float | None
    expires_at: datetime | None
    fmt: str
    attributes: tuple[str, ...] | None
    sys_attrs: bool
    show_changes: bool
    lang: str | None
    compact: Callable[[str], str]
    context: Any = None
    spec: dict[str, Any] = field(default_factory=dict)

    def selects(self, entity_id: str, entity_type: str) -> bool:
        return not self.selectors or any(s.matches(entity_id, entity_type) for s in self.selectors)

    def concerns(self, change: EntityChange, now: datetime) -> bool:
        if self.expires_at is not None and self.expires_at <= now:
            return False
        if not self.selects(change.entity_id, change.entity_type):
            return False
        if not self.triggers & triggers_of(change, self.watched):
            return False
        if change.kind == "deleted" or change.entity is None:
            return True  # q and geoQ speak of attributes the entity no longer has
        if self.q is not None and not self.q.matches(change.entity):
            return False
        return self.geo is None or self.geo.matches(change.entity)


def triggers_of(change: EntityChange, watched: frozenset[str]) -> set[str]:
    """The notification triggers a change fires for a subscription watching ``watched``."""
    if change.kind == "created":
        if watched and not watched & change.attrs:
            return set()
        return {"entityCreated", "attributeCreated"}
    if change.kind == "deleted":
        return {"entityDeleted"}
    attrs = change.attrs & watched if watched else change.attrs
    if not attrs:
        return set()
    before = change.previous or {}
    after = change.entity or {}
    fired = {"entityUpdated"}
    for attr in attrs:
        if attr not in after:
            fired.add("attributeDeleted")
        elif attr not in before:
            fired.add("attributeCreated")
        else:
            fired.add("attributeUpdated")
    return fired


def compile_row(row: HubSubscription, terms: Callable[[Any], Any]) -> Compiled:
    """``terms(@context)`` gives the subscriber's context (``expand``/``compact``)."""
    from cityos.hub.ngsi.geo import parse_geoquery
    from cityos.hub.ngsi.query import parse_q

    spec = row.spec
    context = terms(spec.get("@context"))
    selectors = tuple(
        Selector(
            type=s["type"],
            id=s.get("id"),
            pattern=re.compile(s["idPattern"]) if "idPattern" in s else None,
        )
        for s in spec.get("entities", [])
    )
    geo = None
    if "geoQ" in spec:
        g = spec["geoQ"]
        geo = parse_geoquery(
            georel=g.get("georel"),
            geometry=g.get("geometry"),
            coordinates=g.get("coordinates"),
            geoproperty=g.get("geoproperty"),
            expand=context.expand,
        )
    note = spec.get("notification", {})
    return Compiled(
        pk=row.id,
        subscription_id=row.subscription_id,
        tenant=row.tenant,
        endpoint_uri=row.endpoint_uri,
        selectors=selectors,
        watched=frozenset(spec.get("watchedAttributes", [])),
        triggers=frozenset(spec.get("notificationTrigger") or DEFAULT_TRIGGERS),
        q=parse_q(spec["q"], context.expand) if spec.get("q") else None,
        geo=geo,
        throttling=row.throttling,
        expires_at=row.expires_at,
        fmt=note.get("format", "normalized"),
        attributes=tuple(note["attributes"]) if note.get("attributes") else None,
        sys_attrs=bool(note.get("sysAttrs", False)),
        show_changes=bool(note.get("showChanges", False)),
        lang=spec.get("lang"),
        compact=context.compact,
        context=context,
        spec=spec,
    )


class ActiveCache:
    """Compiled active (not periodic) subscriptions per tenant."""

    def __init__(self, ttl: float = TTL) -> None:
        self.ttl = ttl
        self._items: dict[str, tuple[float, tuple[Compiled, ...]]] = {}
        self._lock = threading.Lock()

    def get(self, session: Session, tenant: str, terms: Callable[[Any], Any]) -> tuple[Compiled, ...]:
        hit = self._items.get(tenant)
        if hit is not None and time.monotonic() - hit[0] < self.ttl:
            return hit[1]
        rows = session.scalars(
            select(HubSubscription)
            .where(
                HubSubscription.tenant == tenant,
                HubSubscription.is_active.is_(True),
                HubSubscription.time_interval.is_(None),
            )
            .order_by(HubSubscription.id)
        ).all()
        compiled = tuple(compile_row(row, terms) for row in rows)
        with self._lock:
            self._items[tenant] = (time.monotonic(), compiled)
        return compiled

    def forget(self, tenant: str | None = None) -> None:
        with self._lock:
            if tenant is None:
                self._items.clear()
            else:
                self._items.pop(tenant, None)


active = ActiveCache()
