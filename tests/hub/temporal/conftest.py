"""Fixtures of the temporal tests: a 数据专员 with a bearer token, a caller without hub roles,
an archive folder of the test's own, and the entity store's tenant cache cleared."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from cityos.core.runtime import Runtime
from cityos.hub.ngsi import service as store
from tests.factories import add_region, bearer, make_account


@pytest.fixture(autouse=True)
def _fresh_tenants() -> Iterator[None]:
    store.forget_tenants()
    yield
    store.forget_tenants()


@pytest.fixture
def auth(session: Session) -> dict[str, str]:
    city = add_region(session, None, "city", "测试市")
    account = make_account(session, roles=["data_officer"], scope=city)
    session.commit()
    return bearer(account.id)


@pytest.fixture
def nobody(session: Session) -> dict[str, str]:
    city = add_region(session, None, "city", "别的市")
    account = make_account(session, roles=[], scope=city)
    session.commit()
    return bearer(account.id)


@pytest.fixture
def archive_dir(runtime: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The app's archive folder, moved to the test's temporary folder."""
    monkeypatch.setattr(runtime, "settings", runtime.settings.model_copy(update={"archive_dir": tmp_path}))
    return tmp_path
