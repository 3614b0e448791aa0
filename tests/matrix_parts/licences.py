"""Permission-matrix entries of services.licences (see tests/matrix_parts/base.py).

The public verification (``POST /verify/credential``) lives outside /api/v1 on purpose: anyone
may verify, so it is not part of this matrix; tests/services/test_licences_api.py covers it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from tests.factories import World
from tests.matrix_parts.base import Case

NOTICE = {"item_name": "户外广告设施设置许可", "applicant": "矩阵", "decision": "准予许可"}


def _notice(i: dict[str, Any]) -> dict[str, Any]:
    return {
        "kind_code": "approval_notice",
        "data": NOTICE,
        "holder_person_id": i["person"],
        "issuer_department_id": i["licence_department"],
    }


CASES: tuple[Case, ...] = (
    # The kinds are public reference data for every signed-in caller.
    Case("GET", "/api/v1/credential-kinds", lambda perms, role: True, outside=False),
    # One's own wallet: the matrix's accounts hold nothing, apps have no holder: an empty list.
    Case("GET", "/api/v1/credentials", lambda perms, role: True, list_key="", kind="credential", outside=False),
    # Staff issue in the name of a department inside their area; outside it: refused.
    Case("POST", "/api/v1/credentials", "credential:issue", body=_notice),
    # The holder (none of the matrix's accounts) or staff who may issue over the issuer's area.
    Case("GET", "/api/v1/credentials/{credential_no}", "credential:issue"),
    Case("GET", "/api/v1/credentials/{credential_no}/uses", "credential:issue"),
    Case("POST", "/api/v1/credentials/{credential_no}/revoke", "credential:issue", body=lambda i: {"reason": "矩阵"}),
)
PATH_PARAMS: dict[str, str] = {"credential_no": "credential_no"}


def records(session: Session, world: World, inside: dict[str, Any], outside: dict[str, Any]) -> None:
    """An approval notice (准予许可决定书) issued by a department of grid 1, and one of grid 2."""
    from cityos.core.actor import SYSTEM
    from cityos.people.models import Department
    from cityos.services.licences import service

    service.install(session)
    for side, grid in ((inside, world.grid1), (outside, world.grid2)):
        dept = Department(code=f"{grid.code}-cgj", name=f"{grid.name}城管", region_id=grid.id, region_path=grid.path)
        session.add(dept)
        session.flush()
        credential = service.issue(
            session,
            SYSTEM,
            kind_code="approval_notice",
            data=NOTICE,
            holder_person_id=side["person"],
            issuer_department_id=dept.id,
        )
        side.update(licence_department=dept.id, credential=credential.id, credential_no=credential.no)
