"""Temporal entity representations: normalized (every instance), simplified (temporalValues)
and aggregated (aggregatedValues), with names compacted by the caller's context."""

from __future__ import annotations

from collections.abc import Callable
from itertools import groupby
from typing import Any

import polars as pl

from cityos.hub.temporal import frames
from cityos.hub.temporal.aggregate import Key
from cityos.hub.temporal.service import VALUE_KEYS

# The simplified representation's member for each attribute type (ETSI GS CIM 009 4.5.9).
SIMPLIFIED_KEYS = {
    "Property": "values",
    "GeoProperty": "values",
    "Relationship": "objects",
    "LanguageProperty": "languageMaps",
    "ListProperty": "valueLists",
    "ListRelationship": "objectLists",
    "JsonProperty": "jsons",
    "VocabProperty": "vocabs",
}
Compact = Callable[[str], str]


def _one_or_many(items: list[dict[str, Any]]) -> dict[str, Any] | list[dict[str, Any]]:
    return items[0] if len(items) == 1 else items


def _instance(row: dict[str, Any], column: str, sys_attrs: bool) -> dict[str, Any]:
    kind = row["kind"] or "Property"
    out: dict[str, Any] = {"type": kind}
    out[VALUE_KEYS.get(kind, "value")] = frames.value_of(kind, row["value_num"], row["value_text"], row["value_json"])
    out["observedAt"] = frames.iso(row["observed_at"])
    if row["unit"] is not None:
        out["unitCode"] = row["unit"]
    if row["dataset_id"] is not None:
        out["datasetId"] = row["dataset_id"]
    out["instanceId"] = row["instance_id"]
    if sys_attrs:
        out["createdAt"] = frames.iso(row["created_at"])
        out["modifiedAt"] = frames.iso(row["created_at"])
    return out


def _simplified(rows: list[dict[str, Any]], column: str) -> dict[str, Any] | list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for dataset, group in groupby(rows, key=lambda r: r["dataset_id"]):
        group_rows = list(group)
        kind = group_rows[0]["kind"] or "Property"
        pairs = [
            [frames.value_of(kind, r["value_num"], r["value_text"], r["value_json"]), frames.iso(r[column])]
            for r in group_rows
        ]
        item: dict[str, Any] = {"type": kind, SIMPLIFIED_KEYS.get(kind, "values"): pairs}
        if dataset is not None:
            item["datasetId"] = dataset
        items.append(item)
    return _one_or_many(items)


def entities(
    page: list[tuple[str, str]],
    rows: pl.DataFrame,
    *,
    compact: Compact,
    column: str,
    simplified: bool = False,
    sys_attrs: bool = False,
    aggregated: dict[Key, dict[str, list[list[Any]]]] | None = None,
) -> list[dict[str, Any]]:
    """One temporal entity per page entry, attributes in name order."""
    by_entity: dict[str, list[dict[str, Any]]] = {}
    for row in rows.iter_rows(named=True):
        by_entity.setdefault(row["entity_id"], []).append(row)
    out: list[dict[str, Any]] = []
    for entity_id, entity_type in page:
        doc: dict[str, Any] = {"id": entity_id, "type": compact(entity_type)}
        mine = by_entity.get(entity_id, [])
        for attr, group in groupby(mine, key=lambda r: r["attr"]):
            attr_rows = list(group)
            name = compact(attr)
            if aggregated is not None:
                items = []
                for dataset, dgroup in groupby(attr_rows, key=lambda r: r["dataset_id"]):
                    kind = next(iter(dgroup))["kind"] or "Property"
                    item: dict[str, Any] = {"type": kind, **aggregated.get((entity_id, attr, dataset), {})}
                    if dataset is not None:
                        item["datasetId"] = dataset
                    items.append(item)
                doc[name] = _one_or_many(items)
            elif simplified:
                doc[name] = _simplified(attr_rows, column)
            else:
                doc[name] = [_instance(r, column, sys_attrs) for r in attr_rows]
        out.append(doc)
    return out
