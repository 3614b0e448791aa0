"""One worker process of several runs the background work: the lock, the hand-over when the
leader goes, and the app's lifespan with ``workers`` above 1."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from cityos.core import leader
from cityos.core.leader import Leadership


def _until(check: Callable[[], bool], seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.02)
    return check()


def test_one_holder_at_a_time_per_database(tmp_path: Path) -> None:
    first = Leadership.for_database("sqlite:///a.db", tmp_path)
    second = Leadership.for_database("sqlite:///a.db", tmp_path)
    other_db = Leadership.for_database("postgresql://user:secret@db/cityos", tmp_path)
    assert first.try_acquire()
    assert not second.try_acquire()
    assert other_db.try_acquire()  # another database elects its own
    assert "secret" not in other_db.path.name
    first.release()
    assert second.try_acquire()
    assert not first.try_acquire()
    second.release()
    other_db.release()


def test_a_waiting_process_takes_over_when_the_leader_goes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(leader, "POLL_SECONDS", 0.02)
    started: list[str] = []
    first = Leadership.for_database("sqlite:///b.db", tmp_path)
    second = Leadership.for_database("sqlite:///b.db", tmp_path)
    assert first.follow(lambda: started.append("first"))
    assert not second.follow(lambda: started.append("second"))
    time.sleep(0.1)
    assert started == ["first"]
    first.close()
    assert _until(lambda: started == ["first", "second"])
    assert second.held
    assert not first.follow(lambda: started.append("again"))  # closed: never starts again
    second.close()
    assert started == ["first", "second"]


def test_a_closed_follower_never_starts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(leader, "POLL_SECONDS", 0.02)
    started: list[str] = []
    holder = Leadership.for_database("sqlite:///c.db", tmp_path)
    assert holder.try_acquire()
    follower = Leadership.for_database("sqlite:///c.db", tmp_path)
    follower.follow(lambda: started.append("follower"))
    follower.close()
    holder.release()
    time.sleep(0.15)
    assert started == []
    assert not follower.held


def _outbox_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.name == "outbox" and t.is_alive()}


def test_with_two_workers_only_the_leader_runs_the_background_work(
    isolated_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fastapi.testclient import TestClient

    from cityos.app import create_app
    from cityos.core.settings import Settings

    monkeypatch.setattr(leader, "POLL_SECONDS", 0.05)
    settings = Settings(
        env="test", database_url=isolated_url, log_level="WARNING", workers=2, archive_dir=tmp_path / "archive"
    )
    before = _outbox_threads()
    first = TestClient(create_app(settings))
    first.__enter__()
    first_open = True
    try:
        assert first.get("/healthz").status_code == 200
        assert _until(lambda: len(_outbox_threads() - before) == 1)
        firsts = _outbox_threads() - before
        with TestClient(create_app(settings)) as second:
            assert second.get("/healthz").status_code == 200
            time.sleep(0.3)
            assert _outbox_threads() - before == firsts  # the second one waits, serving requests
            first.__exit__(None, None, None)  # the leader stops: the second takes over
            first_open = False
            assert _until(lambda: len(_outbox_threads() - before - firsts) == 1)
            assert not any(t.is_alive() for t in firsts)
            assert second.get("/healthz").status_code == 200
        assert _until(lambda: not (_outbox_threads() - before))
    finally:
        if first_open:
            first.__exit__(None, None, None)


def test_serve_starts_the_asked_worker_processes(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    import uvicorn
    from typer.testing import CliRunner

    from cityos.cli import app

    calls: list[dict[str, object]] = []
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: calls.append(kwargs))
    monkeypatch.setenv("CITYOS_WORKERS", "1")  # restored after the test, whatever serve sets
    result = CliRunner().invoke(app, ["serve", "--workers", "2", "--port", "8123"])
    assert result.exit_code == 0, result.output
    assert calls[0]["workers"] == 2
    assert calls[0]["factory"] is True
    assert os.environ["CITYOS_WORKERS"] == "2"  # each worker process's settings read it
    refused = CliRunner().invoke(app, ["serve", "--workers", "2", "--reload"])
    assert refused.exit_code == 2
    assert "--reload" in refused.output
    assert len(calls) == 1
