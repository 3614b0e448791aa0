"""Permission-matrix entries of services.catalogue (see tests/matrix_parts/base.py).

The catalogue is city-wide, so its reads and item/bundle writes have no "outside" variant; local
sites and statistics are scoped: a site is saved with service:write on its district (grid 1 is no
district, so an allowed caller gets 422 there), statistics of grid 2 are not found.
"""

from __future__ import annotations

import copy
from typing import Any

from sqlalchemy.orm import Session

from tests.factories import World
from tests.matrix_parts.base import Case


def _record(code: str) -> dict[str, Any]:
    from cityos.services.catalogue import service as catalogue

    raw = copy.deepcopy(next(i for i in catalogue.shipped()["items"] if i["code"] == "mzj-003"))
    raw.update(code=code, name="矩阵事项")
    return raw


def _bundle(code: str) -> dict[str, Any]:
    return {"code": code, "name": "矩阵一件事", "item_codes": ["mzj-003", "mzj-005"]}


CASES: tuple[Case, ...] = (
    Case("GET", "/api/v1/service-items", "service:read", outside=False),
    Case("GET", "/api/v1/service-items/export", "service:read", query=lambda i: {"format": "csv"}, outside=False),
    Case("POST", "/api/v1/service-items/import", "service:write", body=lambda i: [_record("mtx-002")], outside=False),
    Case("GET", "/api/v1/service-items/{item_code}", "service:read", outside=False),
    Case("POST", "/api/v1/service-items", "service:write", body=lambda i: _record("mtx-003"), outside=False),
    Case(
        "PUT",
        "/api/v1/service-items/{item_code}",
        "service:write",
        body=lambda i: _record(i["item_code"]),
        outside=False,
    ),
    Case("GET", "/api/v1/service-bundles", "service:read", outside=False),
    Case("GET", "/api/v1/service-bundles/{bundle_code}", "service:read", outside=False),
    Case("POST", "/api/v1/service-bundles", "service:write", body=lambda i: _bundle("mtx-b2"), outside=False),
    Case(
        "PUT",
        "/api/v1/service-bundles/{bundle_code}",
        "service:write",
        body=lambda i: _bundle(i["bundle_code"]),
        outside=False,
    ),
    # The site serving grid 1 is district A's; sites are public branding, read by anyone with service:read.
    Case("GET", "/api/v1/local-sites/{region_id}", "service:read", outside=False),
    Case(
        "PUT",
        "/api/v1/local-sites/{region_id}",
        "service:write",
        body=lambda i: {"site_name": "矩阵站"},
        allowed_status=(422,),  # grid 1 is not a district: refused for its level, after the permission check
    ),
    Case("GET", "/api/v1/service-stats", "service:stats", query=lambda i: {"region_id": i["grid"]}),
)
# The same path parameters as the applications part (``/service-items/{item_code}/prefill``): the ids
# ``item_code``/``bundle_code`` come from whichever part sets them first (setdefault).
PATH_PARAMS: dict[str, str] = {"item_code": "item_code", "bundle_code": "bundle_code"}


def records(session: Session, world: World, inside: dict[str, Any], outside: dict[str, Any]) -> None:
    """Creates this module's records inside grid 1 and outside it and adds their ids."""
    from cityos.core.actor import SYSTEM
    from cityos.services.catalogue import service as catalogue
    from cityos.services.catalogue.schemas import LocalSiteIn

    catalogue.install(session)
    catalogue.create_item(session, SYSTEM, _record("mtx-001"))
    catalogue.create_bundle(session, SYSTEM, _bundle("mtx-b1"))
    catalogue.save_local_site(session, SYSTEM, region_id=world.district_a.id, data=LocalSiteIn(site_name="甲区站"))
    for side in (inside, outside):
        side.setdefault("item_code", "mtx-001")
        side.setdefault("bundle_code", "mtx-b1")
