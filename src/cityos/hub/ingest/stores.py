"""Where ingest writes: the entity store (``hub.ngsi.service``, latest values) and the
observation store (``hub.temporal.service``, every reading), through their published functions
only. Short attribute and type names are expanded with the store's default context (Smart Data
Models + NGSI-LD core), the same expansion ``upsert_attributes`` applies."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy.orm import Session


@lru_cache(maxsize=4096)
def expand(term: str) -> str:
    """The expanded IRI of a short name (``fillingLevel`` → its Smart Data Models IRI)."""
    from cityos.hub.ngsi.context import default_context

    return default_context().expand(term)


def upsert_entity(
    session: Session,
    *,
    tenant: str,
    entity_id: str,
    entity_type: str,
    attrs: dict[str, dict[str, Any]],
    observed_at: datetime | None = None,
    history: bool = True,
) -> None:
    """Creates the entity when missing and merges ``attrs`` (the store emits the change)."""
    from cityos.hub.ngsi.service import upsert_attributes

    upsert_attributes(
        session,
        tenant=tenant,
        entity_id=entity_id,
        entity_type=entity_type,
        attrs=attrs,
        observed_at=observed_at,
        history=history,
    )


def upsert_entities(
    session: Session,
    *,
    tenant: str,
    items: Sequence[tuple[str, str, dict[str, dict[str, Any]], datetime | None]],
    history: bool = True,
) -> None:
    """``upsert_entity`` for many ``(entity_id, entity_type, attrs, observed_at)`` items of one
    tenant in a few statements (``ngsi.upsert_many``; the store emits the changes once)."""
    from cityos.hub.ngsi.bulk import upsert_many

    upsert_many(session, tenant=tenant, items=items, history=history)


def observation_row(
    *,
    tenant: str,
    entity_id: str,
    entity_type: str,
    attr: str,
    observed_at: datetime,
    value: Any,
    unit: str | None,
    kind: str,
    source: str,
) -> Any:
    from cityos.hub.temporal.service import ObservationRow

    return ObservationRow(
        tenant=tenant,
        entity_id=entity_id,
        entity_type=expand(entity_type),
        attr=expand(attr),
        observed_at=observed_at,
        value=value,
        unit=unit,
        source=source,
        kind=kind,
    )


def append(session: Session, rows: Sequence[Any]) -> int:
    """Appends the observations in bulk."""
    from cityos.hub.temporal.service import append_observations

    return append_observations(session, rows)
