"""Test harness: migrations applied once per run; each test inside a rolled-back transaction.

SQLite by default; set CITYOS_TEST_DATABASE_URL to a PostgreSQL URL to run the same suite
there (a fresh database is created and dropped). With CITYOS_REQUIRE_SERVICES=1 a missing
service fails the run instead of skipping.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker

from cityos.core import migrate
from cityos.core.bus import Bus
from cityos.core.db import make_engine
from cityos.core.runtime import Runtime
from cityos.core.settings import Settings

REQUIRE_SERVICES = os.environ.get("CITYOS_REQUIRE_SERVICES") == "1"
TEST_DB_URL = os.environ.get("CITYOS_TEST_DATABASE_URL", "")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Browser journeys run last: while Playwright's session-wide browser is open its sync API
    keeps an event loop running in the main thread, and code under test that calls
    ``asyncio.run`` (the hub's group-commit writer, its CLI) would fail in any test after it."""
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)
    # Under pytest-xdist (`make test` runs `-n 2 --dist loadgroup`): a module's tests stay on one
    # worker (its module-scoped fixtures, such as an isolated database, are made once), and every
    # browser journey runs on one worker, last, against one live server and one demo city.
    for item in items:
        browser = item.get_closest_marker("browser") is not None
        item.add_marker(pytest.mark.xdist_group("browser" if browser else item.nodeid.split("::")[0]))


def need_service(name: str, reason: str) -> None:
    """Skip (developer machine) or fail (CI) when a service the test needs is missing."""
    if REQUIRE_SERVICES:
        pytest.fail(f"{name} is required in CI but unavailable: {reason}")
    pytest.skip(f"{name} unavailable: {reason}")


@pytest.fixture(scope="session")
def db_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if not TEST_DB_URL.startswith("postgresql"):
        path: Path = tmp_path_factory.mktemp("db") / "cityos-test.db"
        yield f"sqlite:///{path}"
        return
    import psycopg

    admin_url = TEST_DB_URL.replace("postgresql+psycopg://", "postgresql://")
    name = f"cityos_test_{uuid.uuid4().hex[:8]}"
    try:
        with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        need_service("PostgreSQL", str(exc))
    base, _, _db = admin_url.rpartition("/")
    yield f"{base}/{name}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def settings(db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    uploads = tmp_path_factory.mktemp("uploads")
    return Settings(env="test", database_url=db_url, log_level="WARNING", upload_dir=uploads)


@pytest.fixture(scope="session")
def engine(settings: Settings) -> Iterator[Engine]:
    eng = make_engine(settings.database_url)
    migrate.upgrade(eng)
    yield eng
    eng.dispose()


@pytest.fixture(scope="module")
def isolated_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database of the test module's own, migrated: for tests whose servers, threads or bridges
    commit for real, so nothing they write reaches the shared test database (where the other
    tests' expectations would see it)."""
    if not TEST_DB_URL.startswith("postgresql"):
        url = f"sqlite:///{tmp_path_factory.mktemp('isolated') / 'cityos-isolated.db'}"
    else:
        import psycopg

        admin_url = TEST_DB_URL.replace("postgresql+psycopg://", "postgresql://")
        name = f"cityos_iso_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        url = f"{admin_url.rpartition('/')[0]}/{name}"
    eng = make_engine(url)
    migrate.upgrade(eng)
    eng.dispose()
    yield url
    if TEST_DB_URL.startswith("postgresql"):
        import psycopg

        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def isolated_engine(isolated_url: str) -> Iterator[Engine]:
    eng = make_engine(isolated_url)
    yield eng
    eng.dispose()


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    conn = engine.connect()
    trans = conn.begin()
    yield conn
    trans.rollback()
    conn.close()


@pytest.fixture
def session_factory(connection: Connection) -> sessionmaker[Session]:
    # Every session of the test joins the outer transaction; its commits become savepoints.
    return sessionmaker(bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint")


@pytest.fixture
def runtime(settings: Settings, engine: Engine, session_factory: sessionmaker[Session]) -> Iterator[Runtime]:
    rt = Runtime(settings=settings, engine=engine, session_factory=session_factory, bus=Bus(session_factory))
    yield rt
    rt.bus.close()


@pytest.fixture
def session(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    s = session_factory()
    yield s
    s.close()


@pytest.fixture
def app(settings: Settings, runtime: Runtime):  # type: ignore[no-untyped-def]
    from cityos.app import create_app

    return create_app(settings, runtime=runtime)


@pytest.fixture
def client(app) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    with TestClient(app, headers={"Accept-Language": "en"}) as c:
        yield c


@pytest.fixture
def is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


def pytest_report_header(config: pytest.Config) -> str:
    return f"cityos database: {'postgresql' if TEST_DB_URL.startswith('postgresql') else 'sqlite'}"


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> None:
    # Rate limits and the actor cache are per process; tests must not inherit each other's.
    from cityos.hub.apps import ratelimit as app_ratelimit
    from cityos.identity.deps import actor_cache
    from cityos.identity.ratelimit import limiter

    limiter.reset()
    app_ratelimit.reset()
    actor_cache.forget()


@pytest.fixture
def cli_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A throw-away SQLite file that ``cityos`` commands use (through CITYOS_DATABASE_URL)."""
    from cityos.core.settings import get_settings

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("CITYOS_DATABASE_URL", url)
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()
