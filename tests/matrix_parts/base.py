"""What a part of the permission matrix declares (see tests/test_permission_matrix.py).

A module adds its routes in its own file under tests/matrix_parts/: ``CASES`` (the entries),
``PATH_PARAMS`` (path parameter → key of the ids), and ``records(session, world, inside,
outside)``, which creates the module's records inside grid 1 and outside it (grid 2 / district
B) and adds their ids to ``inside`` and ``outside``. It runs after the core records (people,
departments, cases) exist, so ``inside["department"]`` and the like can be used.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Case:
    method: str
    path: str
    permission: str | Callable[[frozenset[str], str], bool]  # a permission, or (permissions, role) -> allowed
    body: Callable[[dict[str, Any]], Any] | None = None
    query: Callable[[dict[str, Any]], dict[str, Any]] | None = None
    # For lists: where the items are ("" for a bare list) and which kind of record they are, so
    # the test can check that no record from outside the scope comes back.
    list_key: str | None = None
    kind: str = ""
    outside: bool = True  # whether an "outside" variant (ids of grid 2 / district B) makes sense
    allowed_status: tuple[int, ...] = ()  # answers that also count as allowed (e.g. 409: wrong state)
