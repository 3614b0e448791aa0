"""Permission-matrix entries of services.applications (see tests/matrix_parts/base.py).

The "inside" application is a submitted one of a resident of grid 1 (not the matrix's own
resident), approved by a department no matrix account belongs to: area roles see it, nobody
else does, and nobody may take its steps or file for it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from cityos.identity.permissions import Role
from tests.factories import World, make_actor
from tests.matrix_parts.base import Case

AREA = ("commander", "window_clerk", "admin")


def _area(perms: frozenset[str], role: str) -> bool:
    return role in AREA


def _nobody(perms: frozenset[str], role: str) -> bool:
    return False


CASES: tuple[Case, ...] = (
    # Applying for oneself: a resident with a record gets a draft; accounts without one (merchant,
    # admin) are told so (422); others are refused.
    Case(
        "POST",
        "/api/v1/applications",
        "application:submit",
        body=lambda i: {"item_code": i["application_item"]},
        outside=False,
        allowed_status=(422,),
    ),
    Case(
        "GET",
        "/api/v1/applications",
        lambda perms, role: role != Role.APP_CLIENT,
        list_key="items",
        kind="application",
        outside=False,
    ),
    Case("GET", "/api/v1/applications/{application_id}", _area),
    Case("PUT", "/api/v1/applications/{application_id}/form", _nobody, body=lambda i: {"form": {}}),
    Case("POST", "/api/v1/applications/{application_id}/submit", _nobody, body=lambda i: {"consent": True}),
    Case("POST", "/api/v1/applications/{application_id}/actions/{action}", _nobody, body=lambda i: {}),
    Case(
        "POST",
        "/api/v1/applications/{application_id}/supplement",
        _nobody,
        body=lambda i: {"items": [{"key": "name", "reason": "矩阵"}]},
    ),
    Case("POST", "/api/v1/applications/{application_id}/supplement-answer", _nobody, body=lambda i: {"form": {}}),
    Case("GET", "/api/v1/applications/{application_id}/progress", _area),
    Case("POST", "/api/v1/applications/{application_id}/rating", _nobody, body=lambda i: {"level": 5}),
    Case(
        "GET",
        "/api/v1/service-items/{item_code}/prefill",
        "application:submit",
        outside=False,
        allowed_status=(422,),
    ),
    Case(
        "POST",
        "/api/v1/service-bundles/{bundle_code}/applications",
        "application:submit",
        body=lambda i: {"form": {"name": "矩阵"}, "consent": True},
        outside=False,
        allowed_status=(422,),
    ),
)
PATH_PARAMS: dict[str, str] = {
    "application_id": "application",
    "item_code": "item_code",
    "bundle_code": "bundle_code",
}


def records(session: Session, world: World, inside: dict[str, Any], outside: dict[str, Any]) -> None:
    """A service item approved by a department of kind ``mxk`` in each district, a bundle of it,
    and one submitted application inside grid 1 and one in grid 2."""
    from cityos.people.models import Department, Person
    from cityos.services.applications import service as applications
    from cityos.services.applications import submission
    from cityos.services.catalogue.models import ServiceBundle, ServiceItem

    applications.install(session)
    for district in (world.district_a, world.district_b):
        session.add(
            Department(code=f"{district.code}-mxk", name="矩阵审批局", region_id=district.id, region_path=district.path)
        )
    schema = {"type": "object", "properties": {"name": {"type": "string", "title": "姓名"}}, "required": ["name"]}
    session.add(
        ServiceItem(
            code="mx-1",
            name="矩阵事项",
            department_kinds=["mxk"],
            materials=[],
            form_schema=schema,
            channels=["online", "counter", "kiosk"],
            time_limit_days=5,
        )
    )
    session.add(ServiceBundle(code="mx-b", name="矩阵一件事", item_codes=["mx-1"], active=True))
    session.flush()
    for side in (inside, outside):
        person = session.get(Person, side["person"])
        assert person is not None
        applicant = make_actor(session, roles=["resident"], scope=world.city, person_id=person.id)
        app = applications.start_draft(session, applicant, item_code="mx-1")
        submission.submit(session, applicant, application_id=app.id, form={"name": person.name}, consent=False)
        side.update(application=app.id, application_item="mx-1")
        side.setdefault("item_code", "mx-1")
        side.setdefault("bundle_code", "mx-b")
