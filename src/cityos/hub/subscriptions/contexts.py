"""The subscriber's JSON-LD context, kept with the subscription (``spec["@context"]``): what its
names were expanded with, and what notifications and reads compact with."""

from __future__ import annotations

from typing import Any

import structlog

from cityos.core.errors import DomainError
from cityos.hub.ngsi.context import Context, core_context, resolve

log = structlog.get_logger(__name__)


def terms(local: Any) -> Context:
    """The active context of a stored ``@context`` (the core context when there is none). A
    remote context that cannot be had any more falls back to the core context, so matching and
    notifying go on (names then compact to full IRIs, which are still correct)."""
    if local is None:
        return core_context()
    try:
        return resolve(local)
    except DomainError:
        log.warning("hub.subscription_context_unavailable")
        return core_context()


def of_request(ctx: Context) -> Any:
    """What to keep of a request's context: the caller's URLs or inline context, or None."""
    if ctx.local is not None:
        return ctx.local
    if not ctx.urls:
        return None
    return list(ctx.urls) if len(ctx.urls) > 1 else ctx.urls[0]
