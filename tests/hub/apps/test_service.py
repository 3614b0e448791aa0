"""The light-app registry: lifecycle, bad input with nothing written, who sees what, approval
creating a working OAuth2 client with only the granted scopes, rejection, suspension, rotation."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityos.core.errors import Conflict, Forbidden, Invalid, NotFound
from cityos.hub.apps import service
from cityos.hub.apps.models import AppStatus, LightApp
from cityos.identity import accounts
from cityos.identity.models import OAuthClient
from tests.hub.apps.fixtures import AppWorld, app_input, approved, submitted

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 100


def _fields(exc: pytest.ExceptionInfo[Invalid]) -> set[str]:
    return {d.field for d in exc.value.details}


def _count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(LightApp)) or 0)


def test_bad_input_names_every_field_and_writes_nothing(session: Session, aw: AppWorld) -> None:
    bad = app_input(
        name="  ",
        description="x" * 2001,
        category="games",
        emoji="x" * 17,
        homepage_url="ftp://example.org",
        entry_url="javascript:alert(1)",
        requested_scopes=["pii:read"],
        organisation_id=999_999,
    )
    with pytest.raises(Invalid) as exc:
        service.create_app(session, aw.dev, bad)
    assert _fields(exc) == {
        "name",
        "description",
        "category",
        "emoji",
        "homepage_url",
        "entry_url",
        "requested_scopes",
        "organisation_id",
    }
    with pytest.raises(Invalid) as empty:
        service.create_app(session, aw.dev, app_input(requested_scopes=[]))
    assert _fields(empty) == {"requested_scopes"}
    assert _count(session) == 0
    with pytest.raises(Forbidden):
        service.create_app(session, aw.resident, app_input())


def test_draft_edit_submit_and_the_states_that_refuse(session: Session, aw: AppWorld) -> None:
    app = service.create_app(session, aw.dev, app_input())
    assert app.status == AppStatus.DRAFT
    assert app.requested_scopes == ["hub:read", "region:read"]
    assert app.home_path == aw.world.district_a.path
    service.update_app(session, aw.dev, app.id, service.AppInput(name="  分类 助手 ", requested_scopes=["hub:read"]))
    assert app.name == "分类 助手"
    assert app.requested_scopes == ["hub:read"]
    with pytest.raises(Invalid) as exc:
        service.update_app(session, aw.dev, app.id, service.AppInput(entry_url="nope", category="x"))
    assert _fields(exc) == {"entry_url", "category"}
    assert app.entry_url == "https://example.org/recycle/app"
    with pytest.raises(NotFound):
        service.update_app(session, aw.dev2, app.id, service.AppInput(name="mine"))
    with pytest.raises(NotFound):
        service.get_app(session, aw.dev2, app.id)
    service.submit(session, aw.dev, app.id)
    assert app.status == AppStatus.SUBMITTED
    assert app.submitted_at is not None
    with pytest.raises(Conflict):
        service.submit(session, aw.dev, app.id)
    with pytest.raises(Conflict):
        service.update_app(session, aw.dev, app.id, service.AppInput(name="while in review"))
    with pytest.raises(Conflict):
        service.rotate_secret(session, aw.dev, app.id)  # no client before approval


def test_approval_creates_an_active_client_with_only_the_granted_scopes(session: Session, aw: AppWorld) -> None:
    app = submitted(session, aw, requested_scopes=["hub:read", "hub:write", "region:read"])
    assert [a.id for a in service.review_queue(session, aw.reviewer)] == [app.id]
    assert service.review_queue(session, aw.far_reviewer) == []
    with pytest.raises(NotFound):
        service.approve(session, aw.far_reviewer, app.id, scopes=["hub:read"], region_id=aw.world.district_b.id)
    with pytest.raises(Invalid) as exc:
        service.approve(
            session, aw.reviewer, app.id, scopes=["pii:read"], region_id=999_999, rate_limit=0, note="x" * 2001
        )
    assert _fields(exc) == {"scopes", "region_id", "rate_limit", "note"}
    assert app.status == AppStatus.SUBMITTED
    assert session.scalar(select(func.count()).select_from(OAuthClient)) == 0
    app = service.approve(
        session, aw.reviewer, app.id, scopes=["hub:read", "region:read"], region_id=aw.world.community.id, rate_limit=5
    )
    with pytest.raises(NotFound):
        service.collect_secret(session, aw.dev2, app.id)
    _app, secret = service.collect_secret(session, aw.dev, app.id)
    with pytest.raises(Conflict):
        service.collect_secret(session, aw.dev, app.id)  # once
    client = session.get(OAuthClient, app.client_pk)
    assert client is not None
    assert client.active
    assert client.client_id == app.client_id
    assert client.scopes == ["hub:read", "region:read"]
    assert client.scope_path == aw.world.community.path
    assert app.status == AppStatus.APPROVED
    assert app.granted_scopes == ["hub:read", "region:read"]
    assert app.rate_limit == 5
    assert app.reviewed_by == "reviewer"
    token = accounts.client_token(session, client_id=client.client_id, client_secret=secret, scope=None)
    assert token.token
    assert token.scope == "hub:read region:read"
    refused = accounts.client_token(session, client_id=client.client_id, client_secret=secret, scope="hub:write")
    assert refused.token is None
    assert refused.error == "invalid_scope"
    wrong = accounts.client_token(session, client_id=client.client_id, client_secret="guess", scope=None)
    assert wrong.error == "invalid_client"
    with pytest.raises(Conflict):
        service.approve(session, aw.reviewer, app.id, scopes=["hub:read"], region_id=aw.world.city.id)
    with pytest.raises(Invalid) as locked:
        service.update_app(session, aw.dev, app.id, service.AppInput(requested_scopes=["hub:write"]))
    assert _fields(locked) == {"requested_scopes"}
    service.update_app(session, aw.dev, app.id, service.AppInput(name="新名字"))
    assert client.name == "新名字"
    assert [a.id for a in service.catalogue(session, aw.resident)] == [app.id]  # the room is in the community
    assert service.catalogue(session, aw.far_reviewer) == []


def test_a_reviewer_grants_no_scope_they_do_not_hold(session: Session, aw: AppWorld) -> None:
    from cityos.core.actor import Actor

    app = submitted(session, aw)
    partial = Actor(
        account_id=aw.reviewer.account_id,
        label="partial",
        roles=frozenset(),
        permissions=frozenset({"app:review", "region:read"}),
        scope_path=aw.world.city.path,
    )
    with pytest.raises(Invalid) as exc:
        service.approve(session, partial, app.id, scopes=["hub:read"], region_id=aw.world.city.id)
    assert [(d.field, d.params) for d in exc.value.details] == [("scopes", {"scope": "hub:read"})]
    with pytest.raises(Forbidden):
        service.review_queue(session, aw.dev)


def test_rejection_with_a_reason_then_a_new_submission(session: Session, aw: AppWorld) -> None:
    app = submitted(session, aw)
    with pytest.raises(Invalid) as exc:
        service.reject(session, aw.reviewer, app.id, reason="  ")
    assert _fields(exc) == {"reason"}
    service.reject(session, aw.reviewer, app.id, reason="入口地址无法打开")
    assert app.status == AppStatus.REJECTED
    assert app.review_note == "入口地址无法打开"
    assert app.client_pk is None
    with pytest.raises(Conflict):
        service.reject(session, aw.reviewer, app.id, reason="again")
    service.update_app(session, aw.dev, app.id, service.AppInput(entry_url="https://example.org/fixed"))
    assert service.submit(session, aw.dev, app.id).status == AppStatus.SUBMITTED


def test_suspension_stops_tokens_and_resuming_restores_them(session: Session, aw: AppWorld) -> None:
    app, secret = approved(session, aw)
    assert app.client_id is not None
    with pytest.raises(Invalid):
        service.suspend(session, aw.reviewer, app.id, reason="")
    service.suspend(session, aw.reviewer, app.id, reason="滥用接口")
    assert app.status == AppStatus.SUSPENDED
    token = accounts.client_token(session, client_id=app.client_id, client_secret=secret, scope=None)
    assert token.token is None
    assert token.error == "invalid_client"
    assert service.catalogue(session, aw.resident) == []
    with pytest.raises(Conflict):
        service.suspend(session, aw.reviewer, app.id, reason="again")
    service.resume(session, aw.reviewer, app.id)
    assert accounts.client_token(session, client_id=app.client_id, client_secret=secret, scope=None).token


def test_rotating_the_secret_invalidates_the_old_one(session: Session, aw: AppWorld) -> None:
    app, old = approved(session, aw)
    assert app.client_id is not None
    with pytest.raises(NotFound):
        service.rotate_secret(session, aw.dev2, app.id)
    _app, new = service.rotate_secret(session, aw.dev, app.id)
    assert new != old
    assert accounts.client_token(session, client_id=app.client_id, client_secret=old, scope=None).token is None
    assert accounts.client_token(session, client_id=app.client_id, client_secret=new, scope=None).token


def test_icon_type_and_size(session: Session, aw: AppWorld) -> None:
    app = service.create_app(session, aw.dev, app_input())
    with pytest.raises(Invalid) as kind:
        service.set_icon(session, aw.dev, app.id, b"<svg onload=alert(1)>")
    assert _fields(kind) == {"icon"}
    with pytest.raises(Invalid) as size:
        service.set_icon(session, aw.dev, app.id, PNG + b"\x00" * service.ICON_MAX_BYTES)
    assert size.value.details[0].params == {"kb": 64}
    service.set_icon(session, aw.dev, app.id, PNG)
    assert service.icon_of(session, aw.dev, app.id) == (PNG, "image/png")
    with pytest.raises(NotFound):
        service.icon_of(session, aw.dev2, app.id)  # a draft's icon is its developer's
