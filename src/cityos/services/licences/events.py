"""Events services.licences publishes on the bus."""

from __future__ import annotations

from typing import ClassVar

from cityos.core.bus import Event, event_type


@event_type
class CredentialIssued(Event):
    """An e-licence (电子证照) was issued and signed."""

    topic: ClassVar[str] = "services.credential_issued"
    credential_id: int
    kind_code: str
    holder_person_id: int | None
    holder_organisation_id: int | None
    issuer_department_id: int | None


@event_type
class CredentialRevoked(Event):
    """An e-licence was revoked (吊销/注销); verification refuses it from now on."""

    topic: ClassVar[str] = "services.credential_revoked"
    credential_id: int
    kind_code: str
    holder_person_id: int | None
    holder_organisation_id: int | None
