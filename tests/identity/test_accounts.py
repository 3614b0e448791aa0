"""Accounts, roles (no escalation), OAuth2 clients, the audit log and the SMS outbox."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityos.core.errors import Conflict, Forbidden, Invalid, NotFound
from cityos.core.pagination import PageParams
from cityos.identity import accounts, passwords, tokens
from cityos.identity.deps import actor_for_account
from cityos.identity.models import Account, AccountRole, OAuthClient
from tests.factories import World, make_account, make_actor, make_world


@pytest.fixture
def world(session: Session) -> World:
    return make_world(session)


def _fields(exc: pytest.ExceptionInfo) -> set[str]:
    return {d.field for d in exc.value.details}


def _count(session: Session, model: type) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_create_staff_account(session: Session, world: World) -> None:
    admin = make_actor(session, roles=["admin"], scope=world.city)
    account = accounts.create_account(
        session,
        admin,
        username="Li.Si",
        display_name=" 李四 ",
        roles=["grid_worker"],
        scope_region_id=world.grid1.id,
        password="a-good-password",
    )
    assert (account.username, account.display_name, account.scope_path) == ("li.si", "李四", world.grid1.path)
    assert passwords.verify(account.password_hash, "a-good-password")
    assert accounts.roles_of(session, [account.id])[account.id] == ["grid_worker"]


def test_bad_account_input_stores_nothing(session: Session, world: World) -> None:
    admin = make_actor(session, roles=["admin"], scope=world.district_a)
    before = (_count(session, Account), _count(session, AccountRole))
    with pytest.raises(Invalid) as exc:
        accounts.create_account(
            session,
            admin,
            username="x",
            display_name="",
            roles=["mayor", "app_client"],
            scope_region_id=world.district_b.id,
            password="123",
            phone="555",
        )
    assert _fields(exc) == {"username", "display_name", "password", "phone", "roles", "scope_region_id"}
    assert (_count(session, Account), _count(session, AccountRole)) == before


def test_duplicate_username_is_a_conflict(session: Session, world: World) -> None:
    admin = make_actor(session, roles=["admin"], scope=world.city)
    accounts.create_account(
        session,
        admin,
        username="zhao",
        display_name="赵",
        roles=["dispatcher"],
        scope_region_id=world.city.id,
        password="a-good-password",
    )
    with pytest.raises(Conflict):
        accounts.create_account(
            session,
            admin,
            username="ZHAO",
            display_name="赵二",
            roles=["dispatcher"],
            scope_region_id=world.city.id,
            password="a-good-password",
        )


def test_no_escalation(session: Session, world: World) -> None:
    # A commander may read accounts? No: only admins hold account:write. Give a custom actor the right.
    admin_district = make_actor(session, roles=["admin"], scope=world.district_a)
    with pytest.raises(Invalid) as exc:  # outside the district
        accounts.create_account(
            session,
            admin_district,
            username="qian",
            display_name="钱",
            roles=["grid_worker"],
            scope_region_id=world.district_b.id,
            password="a-good-password",
        )
    assert _fields(exc) == {"scope_region_id"}
    worker = make_actor(session, roles=["grid_worker"], scope=world.grid1)
    with pytest.raises(Forbidden):
        accounts.create_account(
            session,
            worker,
            username="sun",
            display_name="孙",
            roles=["grid_worker"],
            scope_region_id=world.grid1.id,
            password="a-good-password",
        )
    from dataclasses import replace

    partial = replace(worker, permissions=worker.permissions | {"account:write", "account:read"})
    with pytest.raises(Invalid) as exc:  # may create accounts, but not admins: it lacks their permissions
        accounts.create_account(
            session,
            partial,
            username="zhou",
            display_name="周",
            roles=["admin"],
            scope_region_id=world.grid1.id,
            password="a-good-password",
        )
    assert _fields(exc) == {"roles"}


def test_grant_revoke_and_deactivate(session: Session, world: World) -> None:
    admin = make_actor(session, roles=["admin"], scope=world.city)
    target = make_account(session, roles=["grid_worker"], scope=world.grid1)
    accounts.grant_role(session, admin, account_id=target.id, role="property_manager")
    assert actor_for_account(session, target).roles == {"grid_worker", "property_manager"}
    accounts.revoke_role(session, admin, account_id=target.id, role="grid_worker")
    assert actor_for_account(session, target).roles == {"property_manager"}
    with pytest.raises(Invalid):
        accounts.grant_role(session, admin, account_id=target.id, role="emperor")
    accounts.update_account(session, admin, account_id=target.id, active=False)
    assert target.active is False
    with pytest.raises(Forbidden):
        accounts.update_account(session, admin, account_id=admin.account_id or 0, active=False)  # not oneself
    other_district = make_actor(session, roles=["admin"], scope=world.district_b)
    with pytest.raises(NotFound):
        accounts.get_account(session, other_district, target.id)


def test_list_accounts_is_scoped(session: Session, world: World) -> None:
    inside = make_account(session, roles=["grid_worker"], scope=world.grid1, username="inside")
    make_account(session, roles=["grid_worker"], scope=world.district_b, username="outside")
    admin = make_actor(session, roles=["admin"], scope=world.district_a)
    rows, total = accounts.list_accounts(session, admin, PageParams(size=200))
    assert inside.id in {a.id for a in rows}
    assert "outside" not in {a.username for a in rows}
    rows, _ = accounts.list_accounts(session, admin, PageParams(), q="insi")
    assert [a.username for a in rows] == ["inside"]


def test_clients_and_client_credentials(session: Session, world: World) -> None:
    admin = make_actor(session, roles=["admin"], scope=world.city)
    client, secret = accounts.register_client(
        session,
        admin,
        name="社区地图",
        scopes=["region:read", "organisation:read"],
        scope_region_id=world.district_a.id,
    )
    assert client.client_id.startswith("app-")
    assert secret not in client.secret_hash
    token = accounts.client_token(session, client_id=client.client_id, client_secret=secret, scope="region:read")
    assert token.token is not None
    claims = tokens.decode(token.token, expect="client")
    assert claims.extra["scope"] == "region:read"
    assert (
        accounts.client_token(session, client_id=client.client_id, client_secret="wrong", scope=None).error
        == "invalid_client"
    )
    assert (
        accounts.client_token(session, client_id=client.client_id, client_secret=secret, scope="pii:read").error
        == "invalid_scope"
    )
    accounts.set_client_active(session, admin, client_pk=client.id, active=False)
    assert (
        accounts.client_token(session, client_id=client.client_id, client_secret=secret, scope=None).error
        == "invalid_client"
    )


def test_client_scopes_are_checked(session: Session, world: World) -> None:
    admin = make_actor(session, roles=["admin"], scope=world.city)
    before = _count(session, OAuthClient)
    with pytest.raises(Invalid) as exc:
        accounts.register_client(session, admin, name="", scopes=["pii:read"], scope_region_id=999999)
    assert _fields(exc) == {"name", "scopes", "scope_region_id"}
    assert _count(session, OAuthClient) == before


def test_audit_search(session: Session, world: World) -> None:
    admin = make_actor(session, roles=["admin"], scope=world.city)
    target = make_account(session, roles=["grid_worker"], scope=world.grid1)
    accounts.grant_role(session, admin, account_id=target.id, role="property_manager")
    rows, total = accounts.search_audit(session, admin, PageParams(), accounts.AuditFilter(action="account.grant"))
    assert total == 1
    assert rows[0].subject_id == str(target.id)
    worker = make_actor(session, roles=["grid_worker"], scope=world.grid1)
    with pytest.raises(Forbidden):
        accounts.search_audit(session, worker, PageParams(), accounts.AuditFilter())
    with pytest.raises(Forbidden):
        accounts.list_sms(session, worker, PageParams())
