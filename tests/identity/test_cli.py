"""``cityos user create|grant|revoke|list`` against a throw-away SQLite file."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from cityos.cli import app
from cityos.core.db import make_engine
from cityos.identity import passwords
from cityos.identity.models import Account, AccountRole
from cityos.places.models import Region


@pytest.fixture
def district_db(cli_db: str) -> str:
    url = cli_db
    runner = CliRunner()
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    engine = make_engine(url)
    with Session(engine) as session:
        session.add(Region(code="510104", name="锦江区", level="district", path="/1/", depth=1, attrs={}))
        session.commit()
    engine.dispose()
    return url


def _roles(url: str, username: str) -> list[str]:
    engine = make_engine(url)
    with Session(engine) as session:
        account = session.scalars(select(Account).where(Account.username == username)).one()
        roles = sorted(session.scalars(select(AccountRole.role).where(AccountRole.account_id == account.id)))
        ok = passwords.verify(account.password_hash, "a-good-password")
    engine.dispose()
    assert ok
    return roles


def test_create_grant_revoke_list(district_db: str) -> None:
    runner = CliRunner()
    created = runner.invoke(
        app,
        ["user", "create", "--username", "ops", "--name", "运维", "--role", "admin", "--scope", "510104"],
        input="a-good-password\na-good-password\n",
    )
    assert created.exit_code == 0, created.output
    assert _roles(district_db, "ops") == ["admin"]
    assert runner.invoke(app, ["user", "grant", "ops", "commander"]).exit_code == 0
    assert _roles(district_db, "ops") == ["admin", "commander"]
    assert runner.invoke(app, ["user", "revoke", "ops", "admin"]).exit_code == 0
    assert _roles(district_db, "ops") == ["commander"]
    listed = runner.invoke(app, ["user", "list"])
    assert "ops" in listed.output
    assert "锦江区" in listed.output


def test_bad_input_is_reported(district_db: str) -> None:
    runner = CliRunner()
    bad = runner.invoke(
        app,
        ["user", "create", "--username", "x", "--name", "", "--role", "mayor", "--scope", "510104", "--password", "1"],
    )
    assert bad.exit_code == 1
    assert "username" in bad.output
    assert "roles" in bad.output
    missing = runner.invoke(
        app,
        [
            "user",
            "create",
            "--username",
            "abc",
            "--name",
            "a",
            "--role",
            "admin",
            "--scope",
            "999",
            "--password",
            "a-good-password",
        ],
    )
    assert missing.exit_code == 1
    assert "No region with code 999" in missing.output
    assert runner.invoke(app, ["user", "grant", "nobody", "admin"]).exit_code == 1
