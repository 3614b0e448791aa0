"""One local Spark session for every mobility test that compares the Spark runner with the
in-process one (starting Spark takes most of such a test's time)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import need_service


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    try:
        import pyspark  # noqa: F401
    except ImportError as exc:
        need_service("pyspark", str(exc))
    if shutil.which("java") is None:
        need_service("Java", "Spark needs a Java runtime (Java 17)")
    from cityos.mobility.indicators.runners import local_spark

    session = local_spark("cityos-mobility-tests", cores=2)
    yield session
    session.stop()
