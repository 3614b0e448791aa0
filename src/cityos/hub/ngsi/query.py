"""The NGSI-LD query language (ETSI GS CIM 009 §4.9): ``q=`` of entity queries and subscriptions.

``parse_q(text, expand)`` parses once into a small tree; ``Predicate.matches(entity)`` walks it
over an entity in the canonical form (expanded names, normalized attributes — see
``hub/ngsi/service.py``) with plain Python, so a subscription or a scan can call it per entity.

Grammar (what is accepted)::

    query     := or
    or        := and ( "|" and )*
    and       := factor ( ";" factor )*            -- ";" binds tighter than "|"
    factor    := "(" or ")" | "!" attribute | attribute [ op values ]
    attribute := name ( "." name )* ( "[" member ( "." member )* "]" | "[" member "]"+ )?
    op        := "==" | "!=" | ">" | ">=" | "<" | "<=" | "~=" | "!~="
    values    := value ".." value | value ( "," value )*
    value     := "quoted string" | number | true | false | date-time | date | time | bare word

``a.b`` reads the sub-attribute ``b`` of ``a`` (or a member such as ``observedAt``, ``unitCode``,
``datasetId``, ``createdAt``, ``modifiedAt``); ``a[b.c]`` reads members of a compound value.
A Relationship compares its ``object``; a LanguageProperty any of its strings; a list value
matches when any element matches; a multi-instance attribute when any instance matches.
A comparison on a missing attribute does not match (``!=`` included); ``!a`` matches when ``a``
is missing. Date-time values compare as instants.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from cityos.core.errors import FieldError, Invalid
from cityos.core.i18n import N_

MAX_QUERY_LENGTH = 4096
MAX_DEPTH = 32
MAX_REGEX_LENGTH = 256
MAX_REGEX_TARGET = 10_000

METADATA = frozenset({"observedAt", "createdAt", "modifiedAt", "deletedAt", "unitCode", "datasetId", "type"})
_VALUE_KEYS = ("value", "object", "languageMap", "valueList", "objectList", "json", "vocab")

_NAME_CHARS = re.compile(r"[A-Za-z0-9_:/#@\-]+")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_TIME = re.compile(r"\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z)?")
_OPERATORS = ("!~=", "==", "!=", ">=", "<=", "~=", ">", "<")
# a group holding a quantifier or an alternation that is itself repeated ((a+)+, (a|aa)*):
# exponential backtracking
_NESTED_QUANTIFIER = re.compile(r"\((?:[^()\\]|\\.)*[*+}|](?:[^()\\]|\\.)*\)\s*[*+{]")
_BACKREFERENCE = re.compile(r"\\[1-9]|\(\?P=")

MSG_EMPTY = N_("The query is empty.")
MSG_TOO_LONG = N_("The query is longer than {limit} characters.")
MSG_SYNTAX = N_("The query is not valid at character {position}.")
MSG_NAME = N_("An attribute name is expected at character {position}.")
MSG_VALUE = N_("A value is expected at character {position}.")
MSG_PAREN = N_("A closing parenthesis is missing in the query.")
MSG_STRING = N_("A quoted string in the query is not closed.")
MSG_REGEX = N_("The regular expression in the query is not valid or too complex.")
MSG_RANGE = N_("A range in the query needs two values of the same kind.")
MSG_DEPTH = N_("The query is nested too deeply.")
MSG_ORDER = N_("This operator cannot be used with a list or a range of values.")


def _invalid(message: str, **params: Any) -> Invalid:
    return Invalid(details=[FieldError("q", message, params)])


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


def _parse_time(text: str) -> time | None:
    try:
        return time.fromisoformat(text.rstrip("Zz"))
    except ValueError:
        return None


@dataclass(frozen=True)
class _Range:
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
            parsed = _parse_time(target)
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
    if isinstance(query_value, _Range):
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
class _Path:
    attribute: str  # expanded
    sub: tuple[str, ...]  # sub-attribute / metadata names (expanded ones second in each pair)
    sub_expanded: tuple[str, ...]
    members: tuple[str, ...]  # compound value members (not expanded)


class _Node:
    def test(self, entity: dict[str, Any]) -> bool:
        raise NotImplementedError


@dataclass(frozen=True)
class _And(_Node):
    parts: tuple[_Node, ...]

    def test(self, entity: dict[str, Any]) -> bool:
        return all(part.test(entity) for part in self.parts)


@dataclass(frozen=True)
class _Or(_Node):
    parts: tuple[_Node, ...]

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


def _targets(path: _Path, entity: dict[str, Any]) -> Iterator[Any]:
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
class _Exists(_Node):
    path: _Path
    negate: bool

    def test(self, entity: dict[str, Any]) -> bool:
        found = next(_targets(self.path, entity), _NO) is not _NO
        return found != self.negate


@dataclass(frozen=True)
class _Compare(_Node):
    path: _Path
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
class _Pattern(_Node):
    path: _Path
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

    def __init__(self, root: _Node, attributes: frozenset[str], text: str) -> None:
        self._root = root
        self.attributes = attributes
        self.text = text

    def matches(self, entity: dict[str, Any]) -> bool:
        return self._root.test(entity)

    def __repr__(self) -> str:
        return f"Predicate({self.text!r})"


# --- the parser -------------------------------------------------------------------------------


def compile_regex(pattern: str, field: str = "q") -> re.Pattern[str]:
    """A user's regular expression, refused when long, back-referencing or nested-quantified."""
    if len(pattern) > MAX_REGEX_LENGTH or _BACKREFERENCE.search(pattern) or _NESTED_QUANTIFIER.search(pattern):
        raise Invalid(details=[FieldError(field, MSG_REGEX)])
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise Invalid(details=[FieldError(field, MSG_REGEX)]) from exc


class _Parser:
    def __init__(self, text: str, expand: Callable[[str], str]) -> None:
        self.text = text
        self.pos = 0
        self.expand = expand
        self.attributes: set[str] = set()
        self.depth = 0

    # helpers
    def _skip(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos] in " \t\r\n":
            self.pos += 1

    def _peek(self, token: str) -> bool:
        self._skip()
        return self.text.startswith(token, self.pos)

    def _error(self, message: str = MSG_SYNTAX) -> Invalid:
        return _invalid(message, position=self.pos + 1)

    # grammar
    def parse(self) -> _Node:
        node = self._or()
        self._skip()
        if self.pos < len(self.text):
            if self.text[self.pos] == ")":
                raise self._error()
            raise self._error()
        return node

    def _or(self) -> _Node:
        parts = [self._and()]
        while self._peek("|"):
            self.pos += 1
            parts.append(self._and())
        return parts[0] if len(parts) == 1 else _Or(tuple(parts))

    def _and(self) -> _Node:
        parts = [self._factor()]
        while self._peek(";"):
            self.pos += 1
            parts.append(self._factor())
        return parts[0] if len(parts) == 1 else _And(tuple(parts))

    def _factor(self) -> _Node:
        self._skip()
        if self._peek("("):
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise _invalid(MSG_DEPTH)
            self.pos += 1
            node = self._or()
            if not self._peek(")"):
                raise _invalid(MSG_PAREN)
            self.pos += 1
            self.depth -= 1
            return node
        if self._peek("!") and not self.text.startswith("!~=", self.pos):
            self.pos += 1
            return _Exists(self._attribute(), negate=True)
        path = self._attribute()
        self._skip()
        op = next((o for o in _OPERATORS if self.text.startswith(o, self.pos)), None)
        if op is None:
            return _Exists(path, negate=False)
        self.pos += len(op)
        self._skip()
        if op in ("~=", "!~="):
            raw = self._pattern_text()
            pattern = raw[1:-1] if len(raw) >= 2 and raw[0] == raw[-1] == '"' else raw
            if not pattern:
                raise self._error(MSG_VALUE)
            return _Pattern(path, compile_regex(pattern), negate=op == "!~=")
        values = self._values()
        if op not in ("==", "!=") and (len(values) > 1 or isinstance(values[0], _Range)):
            raise _invalid(MSG_ORDER)
        return _Compare(path, op, values)

    def _name(self) -> str:
        self._skip()
        match = _NAME_CHARS.match(self.text, self.pos)
        if not match:
            raise self._error(MSG_NAME)
        self.pos = match.end()
        return match.group(0)

    def _attribute(self) -> _Path:
        first = self._name()
        subs: list[str] = []
        while self.text.startswith(".", self.pos):
            self.pos += 1
            subs.append(self._name())
        members: list[str] = []
        while self.text.startswith("[", self.pos):
            self.pos += 1
            members.append(self._name())
            while self.text.startswith(".", self.pos):
                self.pos += 1
                members.append(self._name())
            if not self.text.startswith("]", self.pos):
                raise self._error()
            self.pos += 1
        attribute = self.expand(first)
        self.attributes.add(attribute)
        sub_expanded = tuple(s if s in METADATA else self.expand(s) for s in subs)
        return _Path(attribute, tuple(subs), sub_expanded, tuple(members))

    def _scalar_text(self) -> str:
        """The raw text of one value: a quoted string or everything up to a delimiter."""
        self._skip()
        start = self.pos
        if self.text.startswith('"', self.pos):
            self.pos += 1
            while self.pos < len(self.text):
                char = self.text[self.pos]
                if char == "\\":
                    self.pos += 2
                    continue
                if char == '"':
                    self.pos += 1
                    return self.text[start : self.pos]
                self.pos += 1
            raise _invalid(MSG_STRING)
        while (
            self.pos < len(self.text)
            and self.text[self.pos] not in ";|(),"
            and not (self.text.startswith("..", self.pos))
        ):
            self.pos += 1
        return self.text[start : self.pos].strip()

    def _pattern_text(self) -> str:
        """A regular expression: quoted, or unquoted up to ``;``, ``|`` or an unmatched ``)``."""
        self._skip()
        if self.text.startswith('"', self.pos):
            return self._scalar_text()
        start, depth = self.pos, 0
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if char == "\\":
                self.pos += 2
                continue
            if char in ";|" and depth == 0:
                break
            if char == "(":
                depth += 1
            elif char == ")":
                if depth == 0:
                    break
                depth -= 1
            self.pos += 1
        self.pos = min(self.pos, len(self.text))
        return self.text[start : self.pos].strip()

    def _values(self) -> tuple[Any, ...]:
        start = self.pos
        first = self._value(self._scalar_text(), start)
        if self.text.startswith("..", self.pos):
            self.pos += 2
            second_at = self.pos
            second = self._value(self._scalar_text(), second_at)
            if type(first) is not type(second) and not (
                isinstance(first, int | float)
                and isinstance(second, int | float)
                and not isinstance(first, bool)
                and not isinstance(second, bool)
            ):
                raise _invalid(MSG_RANGE)
            return (_Range(first, second),)
        values = [first]
        while self._peek(","):
            self.pos += 1
            at = self.pos
            values.append(self._value(self._scalar_text(), at))
        return tuple(values)

    def _value(self, raw: str, at: int) -> Any:
        if not raw:
            self.pos = at
            raise self._error(MSG_VALUE)
        if raw[0] == '"':
            return re.sub(r"\\(.)", r"\1", raw[1:-1])
        if raw == "true":
            return True
        if raw == "false":
            return False
        if _NUMBER.fullmatch(raw):
            number = float(raw)
            return int(raw) if re.fullmatch(r"[+-]?\d+", raw) else number
        if _DATETIME.fullmatch(raw) or _DATE.fullmatch(raw):
            instant = parse_instant(raw)
            if instant is None:
                self.pos = at
                raise self._error(MSG_VALUE)
            return instant
        if _TIME.fullmatch(raw):
            parsed = _parse_time(raw)
            if parsed is None:
                self.pos = at
                raise self._error(MSG_VALUE)
            return parsed
        if any(char in raw for char in '"=<>~!'):
            self.pos = at
            raise self._error(MSG_VALUE)
        return raw  # a bare word (an unquoted URI or enum value), compared as a string


def parse_q(text: str, expand: Callable[[str], str]) -> Predicate:
    """Parses an NGSI-LD ``q``; ``Invalid`` with a field error on ``q`` when it is not valid."""
    if text is None or not text.strip():
        raise _invalid(MSG_EMPTY)
    if len(text) > MAX_QUERY_LENGTH:
        raise _invalid(MSG_TOO_LONG, limit=MAX_QUERY_LENGTH)
    parser = _Parser(text, expand)
    root = parser.parse()
    return Predicate(root, frozenset(parser.attributes), text)


def matches_all(predicates: Iterable[Predicate], entity: dict[str, Any]) -> bool:
    """True when every predicate matches the entity (a convenience for combined filters)."""
    return all(predicate.matches(entity) for predicate in predicates)
