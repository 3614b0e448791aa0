"""Fixtures of the NGSI-LD tests: a 数据专员 (hub:read/write) with a bearer token, a reader
without hub:write, a caller without hub roles; the tenant and context caches cleared."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session

from cityos.hub.ngsi import context as ld
from cityos.hub.ngsi import service as store
from tests.factories import add_region, bearer, make_account


@pytest.fixture(autouse=True)
def _fresh_caches() -> Iterator[None]:
    store.forget_tenants()
    ld.forget_resolved()
    ld.LOADER.forget()
    yield
    store.forget_tenants()
    ld.forget_resolved()
    ld.LOADER.forget()


@pytest.fixture
def auth(session: Session) -> dict[str, str]:
    city = add_region(session, None, "city", "测试市")
    account = make_account(session, roles=["data_officer"], scope=city)
    session.commit()
    return bearer(account.id)


@pytest.fixture
def reader(session: Session) -> dict[str, str]:
    city = add_region(session, None, "city", "读者市")
    account = make_account(session, roles=["department_staff"], scope=city)
    session.commit()
    return bearer(account.id)


@pytest.fixture
def nobody(session: Session) -> dict[str, str]:
    city = add_region(session, None, "city", "别的市")
    account = make_account(session, roles=[], scope=city)
    session.commit()
    return bearer(account.id)
