"""Who is acting: roles, permissions and the region subtree they act within.

``Actor`` knows nothing about accounts or regions beyond materialised paths
(``/1/7/42/``), so every module can check permissions without importing ``identity``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import ColumnElement, and_

from cityos.core.errors import Forbidden

ROOT_PATH = "/"


class HasPath(Protocol):
    @property
    def path(self) -> str: ...


def subtree_range(path: str) -> tuple[str, str]:
    """[low, high) bounds of every path under ``path`` (itself included), for an index scan."""
    if not path.endswith("/"):
        raise ValueError("paths end with '/'")
    return path, path[:-1] + "0"  # '0' is the byte after '/'


def subtree_clause(column: Any, path: str) -> ColumnElement[bool]:
    low, high = subtree_range(path)
    if path == ROOT_PATH:
        return and_(column >= low)
    return and_(column >= low, column < high)


@dataclass(frozen=True)
class Actor:
    account_id: int | None
    label: str
    roles: frozenset[str]
    permissions: frozenset[str]
    scope_path: str = ROOT_PATH
    scope_region_id: int | None = None
    person_id: int | None = None
    department_id: int | None = None
    organisation_id: int | None = None
    client_id: str | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def is_authenticated(self) -> bool:
        return self.account_id is not None or self.client_id is not None

    def covers(self, target: HasPath | str | None) -> bool:
        """True when the target path lies inside this actor's region subtree."""
        if target is None:
            return self.scope_path == ROOT_PATH
        path = target if isinstance(target, str) else target.path
        return path.startswith(self.scope_path)

    def can(self, permission: str, *, region: HasPath | str | None = None) -> bool:
        if permission not in self.permissions and "*" not in self.permissions:
            return False
        return True if region is None else self.covers(region)

    def require(self, permission: str, *, region: HasPath | str | None = None) -> None:
        if not self.can(permission, region=region):
            raise Forbidden(params={"permission": permission})

    def scope_clause(self, path_column: Any) -> ColumnElement[bool]:
        """WHERE clause that keeps rows whose path lies in this actor's subtree."""
        return subtree_clause(path_column, self.scope_path)


ANONYMOUS = Actor(account_id=None, label="anonymous", roles=frozenset(), permissions=frozenset())

SYSTEM = Actor(
    account_id=None,
    label="system",
    roles=frozenset({"system"}),
    permissions=frozenset({"*"}),
)
