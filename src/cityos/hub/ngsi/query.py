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
from collections.abc import Callable, Iterable
from typing import Any

from cityos.core.errors import FieldError, Invalid
from cityos.core.i18n import N_
from cityos.hub.ngsi.query_tree import (
    METADATA,
    And,
    AttrPath,
    Compare,
    Exists,
    Node,
    Or,
    Pattern,
    Predicate,
    Range,
    parse_instant,
    parse_time,
)

__all__ = ["Predicate", "compile_regex", "matches_all", "parse_instant", "parse_q"]

MAX_QUERY_LENGTH = 4096
MAX_DEPTH = 32
MAX_REGEX_LENGTH = 256

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
    def parse(self) -> Node:
        node = self._or()
        self._skip()
        if self.pos < len(self.text):
            if self.text[self.pos] == ")":
                raise self._error()
            raise self._error()
        return node

    def _or(self) -> Node:
        parts = [self._and()]
        while self._peek("|"):
            self.pos += 1
            parts.append(self._and())
        return parts[0] if len(parts) == 1 else Or(tuple(parts))

    def _and(self) -> Node:
        parts = [self._factor()]
        while self._peek(";"):
            self.pos += 1
            parts.append(self._factor())
        return parts[0] if len(parts) == 1 else And(tuple(parts))

    def _factor(self) -> Node:
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
            return Exists(self._attribute(), negate=True)
        path = self._attribute()
        self._skip()
        op = next((o for o in _OPERATORS if self.text.startswith(o, self.pos)), None)
        if op is None:
            return Exists(path, negate=False)
        self.pos += len(op)
        self._skip()
        if op in ("~=", "!~="):
            raw = self._pattern_text()
            pattern = raw[1:-1] if len(raw) >= 2 and raw[0] == raw[-1] == '"' else raw
            if not pattern:
                raise self._error(MSG_VALUE)
            return Pattern(path, compile_regex(pattern), negate=op == "!~=")
        values = self._values()
        if op not in ("==", "!=") and (len(values) > 1 or isinstance(values[0], Range)):
            raise _invalid(MSG_ORDER)
        return Compare(path, op, values)

    def _name(self) -> str:
        self._skip()
        match = _NAME_CHARS.match(self.text, self.pos)
        if not match:
            raise self._error(MSG_NAME)
        self.pos = match.end()
        return match.group(0)

    def _attribute(self) -> AttrPath:
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
        return AttrPath(attribute, tuple(subs), sub_expanded, tuple(members))

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
            return (Range(first, second),)
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
            parsed = parse_time(raw)
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
