"""The evaluation side of the NGSI-LD q language: values, comparisons and the parsed tree.

``query.parse_q`` builds these nodes once; ``Predicate.matches(entity)`` walks them over an entity
in the canonical form with plain Python (see ``query.py`` for the language itself).
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

MAX_REGEX_TARGET = 10_000
METADATA = frozenset({"observedAt", "createdAt", "modifiedAt", "deletedAt", "unitCode", "datasetId", "type"})
_VALUE_KEYS = ("value", "object", "languageMap", "valueList", "objectList", "json", "vocab")


# --- values -----------------------------------------------------------------------------------


def parse_instant(text: str) -> datetime | None:
    """An ISO 8601 date-time (``Z`` or offset; naive = UTC) as an aware datetime, else None."""
    if not isinstance(text, str) or len(text) < 10 or not text[:4].isdigit() or text[4] != "-":
        return None
    raw = text.strip()
    if raw.endswith(("Z", "z")):
        raw = raw[:-1] + "+00:00"
    try:
        if "T" not in raw and " " not in raw:
            d = date.fromisoformat(raw)
            return datetime(d.year, d.month, d.day, tzinfo=UTC)
        value = datetime.fromisoformat(raw)
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def parse_time(text: str) -> time | None:
    try:
        return time.fromisoformat(text.rstrip("Zz"))
    except ValueError:
        return None


@dataclass(frozen=True)
class Range:
    low: Any
    high: Any


def _comparable(query_value: Any, target: Any) -> Any:
    """The target converted to the query value's kind, or ``_NO`` when they cannot compare."""
    if isinstance(target, dict) and "@value" in target:
        target = target["@value"]
    if isinstance(query_value, bool):
        return target if isinstance(target, bool) else _NO
    if isinstance(query_value, int | float):
        if isinstance(target, bool) or not isinstance(target, int | float):
            return _NO
        return target
    if isinstance(query_value, datetime):
        if isinstance(target, str):
            instant = parse_instant(target)
            return instant if instant is not None else _NO
        return _NO
    if isinstance(query_value, time):
        if isinstance(target, str):
            parsed = parse_time(target)
            return parsed if parsed is not None else _NO
        return _NO
    if isinstance(query_value, str):
        return target if isinstance(target, str) else _NO
    return _NO


class _No:
    def __repr__(self) -> str:
        return "<no value>"


_NO = _No()


def _compare(op: str, query_value: Any, target: Any) -> bool:
    if isinstance(query_value, Range):
        low = _comparable(query_value.low, target)
        high = _comparable(query_value.high, target)
        if low is _NO or high is _NO:
            return False
        try:
            return bool(query_value.low <= low and high <= query_value.high)
        except TypeError:
            return False
    value = _comparable(query_value, target)
    if value is _NO:
        return False
    try:
        if op == "==":
            return bool(value == query_value)
        if op == ">":
            return bool(value > query_value)
        if op == ">=":
            return bool(value >= query_value)
        if op == "<":
            return bool(value < query_value)
        if op == "<=":
            return bool(value <= query_value)
    except TypeError:
        return False
    return False


# --- the tree ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class AttrPath:
    attribute: str  # expanded
    sub: tuple[str, ...]  # sub-attribute / metadata names (expanded ones second in each pair)
    sub_expanded: tuple[str, ...]
    members: tuple[str, ...]  # compound value members (not expanded)


class Node(ABC):
    """A node of a parsed ``q``: each kind says whether an entity passes it."""

    @abstractmethod
    def test(self, entity: dict[str, Any]) -> bool: ...


@dataclass(frozen=True)
class And(Node):
    parts: tuple[Node, ...]

    def test(self, entity: dict[str, Any]) -> bool:
        return all(part.test(entity) for part in self.parts)


@dataclass(frozen=True)
class Or(Node):
    parts: tuple[Node, ...]

    def test(self, entity: dict[str, Any]) -> bool:
        return any(part.test(entity) for part in self.parts)


def _instances(attribute: Any) -> list[dict[str, Any]]:
    if isinstance(attribute, list):
        return [item for item in attribute if isinstance(item, dict)]
    if isinstance(attribute, dict):
        return [attribute]
    return []


def _main_value(instance: dict[str, Any]) -> Any:
    for key in _VALUE_KEYS:
        if key in instance:
            value = instance[key]
            if key == "languageMap" and isinstance(value, dict):
                return list(value.values())
            if key == "objectList" and isinstance(value, list):
                return [item.get("object") if isinstance(item, dict) else item for item in value]
            return value
    return _NO


def _targets(path: AttrPath, entity: dict[str, Any]) -> Iterator[Any]:
    """Every value the path reaches in the entity (flattened over instances and lists)."""
    for instance in _instances(entity.get(path.attribute)):
        node: Any = instance
        is_metadata = False
        for short, expanded in zip(path.sub, path.sub_expanded, strict=True):
            if not isinstance(node, dict):
                node = _NO
                break
            if short in METADATA and short in node:
                node = node[short]
                is_metadata = True
                continue
            found = node.get(expanded, node.get(short, _NO))
            if isinstance(found, list):
                found = found[0] if found and isinstance(found[0], dict) else _NO
            node = found
            is_metadata = False
        if node is _NO:
            continue
        if is_metadata:
            value = node
        elif not isinstance(node, dict):
            value = _NO
        elif path.members and isinstance(node.get("languageMap"), dict):
            value = node["languageMap"]  # name[zh]: one language of a LanguageProperty
        else:
            value = _main_value(node)
        for member in path.members:
            if isinstance(value, dict) and "@value" not in value and member in value:
                value = value[member]
            else:
                value = _NO
                break
        if value is _NO:
            continue
        if isinstance(value, list):
            yield from value
        else:
            yield value


@dataclass(frozen=True)
class Exists(Node):
    path: AttrPath
    negate: bool

    def test(self, entity: dict[str, Any]) -> bool:
        found = next(_targets(self.path, entity), _NO) is not _NO
        return found != self.negate


@dataclass(frozen=True)
class Compare(Node):
    path: AttrPath
    op: str
    values: tuple[Any, ...]

    def test(self, entity: dict[str, Any]) -> bool:
        targets = list(_targets(self.path, entity))
        if not targets:
            return False
        if self.op == "!=":
            return not any(_compare("==", v, t) for v in self.values for t in targets)
        return any(_compare(self.op, v, t) for v in self.values for t in targets)


@dataclass(frozen=True)
class Pattern(Node):
    path: AttrPath
    pattern: re.Pattern[str]
    negate: bool

    def test(self, entity: dict[str, Any]) -> bool:
        targets = [t for t in _targets(self.path, entity) if isinstance(t, str)]
        if not targets:
            return False
        hit = any(self.pattern.search(t[:MAX_REGEX_TARGET]) for t in targets)
        return hit != self.negate


class Predicate:
    """A parsed ``q``: ``matches(entity)``; ``attributes`` are the expanded names it reads."""

    __slots__ = ("_root", "attributes", "text")

    def __init__(self, root: Node, attributes: frozenset[str], text: str) -> None:
        self._root = root
        self.attributes = attributes
        self.text = text

    def matches(self, entity: dict[str, Any]) -> bool:
        return self._root.test(entity)

    def __repr__(self) -> str:
        return f"Predicate({self.text!r})"
