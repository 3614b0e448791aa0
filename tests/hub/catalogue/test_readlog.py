"""The read log's hash chain: it verifies, a tampered, removed or truncated row is found, the
appends of concurrent readers stay one linear chain, and ``cityos hub verify-readlog``."""

from __future__ import annotations

import threading
from pathlib import Path

from sqlalchemy import delete, text, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from cityos.core.actor import SYSTEM
from cityos.core.db import make_sessionmaker, unit_of_work
from cityos.hub.catalogue import readlog
from cityos.hub.catalogue.models import Dataset, ReadLogEntry, ReadLogHead


def _dataset() -> Dataset:
    # The log keeps the dataset's id, code and owner, no foreign key: a detached row is enough.
    return Dataset(id=999, code="chain.test", department_id=1)


def _append(session: Session, n: int) -> list[ReadLogEntry]:
    return [
        readlog.append(
            session,
            SYSTEM,
            _dataset(),
            department_id=2,
            grant_id=None,
            channel="records",
            query={"offset": i, "limit": 10, "q": "中文"},
            row_count=i,
            fields=["a", "b"],
        )
        for i in range(n)
    ]


def test_chain_verifies_and_links(session: Session) -> None:
    rows = _append(session, 5)
    assert rows[0].prev_hash == readlog.GENESIS
    assert all(b.prev_hash == a.hash for a, b in zip(rows, rows[1:], strict=False))
    session.commit()
    session.expire_all()  # read back from the database: the hash survives the round trip
    report = readlog.verify_chain(session)
    assert report.ok
    assert report.checked == 5


def test_a_tampered_row_is_found(session: Session) -> None:
    rows = _append(session, 5)
    session.execute(
        update(ReadLogEntry).where(ReadLogEntry.id == rows[2].id).values(row_count=0 if rows[2].row_count else 7)
    )
    session.expire_all()
    report = readlog.verify_chain(session)
    assert not report.ok
    assert (report.first_bad_seq, report.problem, report.checked) == (rows[2].seq, "hash", 2)


def test_a_rehashed_row_breaks_the_next_link(session: Session) -> None:
    rows = _append(session, 4)
    forged = rows[1]
    forged.row_count = 99
    forged.hash = readlog.digest(forged, forged.prev_hash)  # the forger recomputes its own hash
    session.flush()
    session.expire_all()
    report = readlog.verify_chain(session)
    assert (report.first_bad_seq, report.problem) == (rows[2].seq, "link")


def test_removed_rows_are_found(session: Session) -> None:
    rows = _append(session, 4)
    session.execute(delete(ReadLogEntry).where(ReadLogEntry.id == rows[1].id))
    session.expire_all()
    assert readlog.verify_chain(session).problem == "gap"
    session.execute(delete(ReadLogEntry).where(ReadLogEntry.seq > rows[1].seq))
    session.execute(delete(ReadLogEntry).where(ReadLogEntry.id == rows[0].id))
    session.expire_all()
    report = readlog.verify_chain(session)  # every row gone: the head still knows there were 4
    assert (report.ok, report.problem) == (False, "head")


def test_concurrent_appends_stay_linear(isolated_engine: Engine) -> None:
    factory = make_sessionmaker(isolated_engine)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            for _ in range(8):
                with unit_of_work(factory) as session:
                    _append(session, 1)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(3)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        with factory() as session:
            report = readlog.verify_chain(session)
            assert report.ok, report
            assert report.checked == 24
    finally:
        with unit_of_work(factory) as session:
            session.execute(delete(ReadLogEntry))
            session.execute(update(ReadLogHead).where(ReadLogHead.id == 1).values(seq=0, hash=""))


def test_verify_readlog_command(cli_db: str) -> None:
    from cityos.cli import app
    from cityos.core import migrate
    from cityos.core.db import make_engine

    engine = make_engine(cli_db)
    migrate.upgrade(engine)
    with Session(engine) as session:
        _append(session, 3)
        session.commit()
    runner = CliRunner()
    ok = runner.invoke(app, ["hub", "verify-readlog"])
    assert ok.exit_code == 0, ok.output
    assert "intact" in ok.output
    assert "3 reads checked" in ok.output
    with Session(engine) as session:
        session.execute(text("UPDATE hub_readlog SET row_count = 42 WHERE seq = 2"))
        session.commit()
    bad = runner.invoke(app, ["hub", "verify-readlog"])
    assert bad.exit_code == 1
    assert "tampered" in bad.output
    assert "#2" in bad.output
    engine.dispose()


def test_a_read_after_reads_takes_the_write_lock_on_a_real_file(cli_db: str, tmp_path: Path) -> None:
    """On a committed SQLite file: a transaction that has only read (as a request has, once it
    resolved the caller) is restarted as a writer before the read is logged, and the grant is
    checked inside that writer transaction."""
    from cityos.core import migrate
    from cityos.core.db import make_engine
    from cityos.hub.catalogue import records
    from cityos.hub.catalogue import service as catalogue
    from cityos.people.models import Department
    from tests.factories import make_actor, make_world

    engine = make_engine(cli_db)
    migrate.upgrade(engine)
    factory = make_sessionmaker(engine)
    with unit_of_work(factory) as session:
        world = make_world(session)
        dept = Department(code="rl", name="城管局", region_id=world.city.id, region_path=world.city.path)
        session.add(dept)
        session.flush()
        officer = make_actor(session, roles=["data_officer"], scope=world.city, department_id=dept.id)
        catalogue.create_dataset(
            session, officer, code="rl.open", name="开放", kind="table", source="places.devices", access_class="open"
        )
    with factory() as session:
        assert session.get(Department, dept.id) is not None  # a read: a deferred transaction is open
        with unit_of_work(factory) as other:  # someone else commits meanwhile
            _append(other, 1)
        result = records.read_records(session, officer, "rl.open", upload_dir=tmp_path)
        session.commit()
        assert result.total == 0
    with factory() as session:
        report = readlog.verify_chain(session)
        assert (report.ok, report.checked) == (True, 2)
    engine.dispose()
