"""The demo city generator: determinism, codes, geometry, identity numbers, accounts, no PII leaks."""

from __future__ import annotations

import hashlib
import json
import logging
import re
from datetime import date
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from shapely.geometry import shape
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from cityos.core import migrate
from cityos.core.actor import subtree_clause
from cityos.core.db import make_engine, make_sessionmaker
from cityos.core.errors import Conflict
from cityos.core.runtime import blind_index, field_cipher
from cityos.demo.accounts import DEMO_ACCOUNTS, DEMO_CLIENT_SCOPES, DEMO_PASSWORD, DEMO_RESIDENT_PHONE
from cityos.demo.catalogue import CASE_CATEGORIES
from cityos.demo.generator import MOBILITY_PARTS, DemoSummary, demo_exists, generate
from cityos.demo.identifiers import id_number_valid, uscc_valid
from cityos.demo.population import REFERENCE_DATE
from cityos.identity.models import Account, AccountRole, OAuthClient
from cityos.people.models import Department, Household, Organisation, Person, PersonTag, Residence, Responsibility
from cityos.places.models import LEVEL_DEPTH, Region

TOLERANCE = 1e-6  # degrees (~10 cm): stored vertices are snapped to 1e-7


def _fresh_engine(url: str) -> Engine:
    engine = make_engine(url)
    migrate.upgrade(engine)
    return engine


def _digest(session: Session) -> str:
    """A hash of everything the seed decides: the region tree, geometry, people and organisations."""
    h = hashlib.sha256()
    for row in session.execute(
        select(Region.code, Region.name, Region.level, Region.path, Region.geometry, Region.lon, Region.lat).order_by(
            Region.id
        )
    ):
        h.update(json.dumps(list(row), ensure_ascii=False, default=str).encode())
    for row in session.execute(
        select(Person.name, Person.gender, Person.birth_date, Person.id_number_hash, Person.phone_hash).order_by(
            Person.id
        )
    ):
        h.update(json.dumps(list(row), ensure_ascii=False, default=str).encode())
    for row in session.execute(select(Organisation.uscc, Organisation.name).order_by(Organisation.id)):
        h.update(json.dumps(list(row), ensure_ascii=False).encode())
    for row in session.execute(select(PersonTag.person_id, PersonTag.tag).order_by(PersonTag.id)):
        h.update(json.dumps(list(row)).encode())
    return h.hexdigest()


def _generate_in_memory(seed: int) -> tuple[str, DemoSummary]:
    engine = _fresh_engine("sqlite://")
    try:
        summary = generate(make_sessionmaker(engine), size="tiny", seed=seed, traffic=False)
        with Session(engine) as session:
            return _digest(session), summary
    finally:
        engine.dispose()


@pytest.fixture
def tiny(session_factory: sessionmaker[Session], session: Session) -> DemoSummary:
    """The tiny demo generated into the test database (SQLite or PostgreSQL), rolled back after. Without
    智慧出行's day of traffic: its parts are seeded in the leak test below and tested in tests/mobility."""
    return generate(session_factory, size="tiny", traffic=False)


def test_tiny_is_deterministic() -> None:
    first, summary = _generate_in_memory(2026)
    again, _ = _generate_in_memory(2026)
    other, _ = _generate_in_memory(7)
    assert first == again
    assert first != other
    assert 400 <= summary.residents <= 800
    assert summary.regions["district"] == 1
    assert summary.regions["street"] == 2
    assert summary.seconds > 0  # the time is reported (how fast it is belongs to a benchmark, not a test)


def test_tiny_region_tree_codes_and_paths(tiny: DemoSummary, session: Session) -> None:
    regions = {r.id: r for r in session.scalars(select(Region))}
    by_level: dict[str, list[Region]] = {}
    for region in regions.values():
        by_level.setdefault(region.level, []).append(region)
        parent = regions.get(region.parent_id) if region.parent_id else None
        assert region.depth == LEVEL_DEPTH[region.level]
        assert region.path == f"{parent.path if parent else '/'}{region.id}/"
    assert [c.code for c in by_level["city"]] == ["510100"]
    assert [d.name for d in by_level["district"]] == ["锦江区"]
    assert all(re.fullmatch(r"510104\d{3}", s.code) for s in by_level["street"])
    for community in by_level["community"]:
        street = regions[community.parent_id]  # type: ignore[index]
        assert re.fullmatch(r"\d{12}", community.code)
        assert community.code.startswith(street.code)
    for grid in by_level["grid"]:
        community = regions[grid.parent_id]  # type: ignore[index]
        # GB/T 30428: county 6 + street 3 + community 3 + grid 3
        assert re.fullmatch(r"\d{15}", grid.code)
        assert grid.code[:12] == community.code
        assert grid.code[:6] == "510104"
    assert len(by_level["grid"]) == tiny.regions["grid"] >= 2
    assert len(by_level["room"]) == tiny.regions["room"]


def test_tiny_child_geometry_lies_inside_parent(tiny: DemoSummary, session: Session) -> None:
    regions = {r.id: r for r in session.scalars(select(Region).where(Region.geometry.is_not(None)))}
    checked: dict[str, int] = {}
    for region in regions.values():
        geom = shape(region.geometry)
        assert geom.is_valid
        assert geom.area > 0
        minx, miny, maxx, maxy = geom.bounds
        assert (region.min_lon, region.min_lat, region.max_lon, region.max_lat) == pytest.approx(
            (minx, miny, maxx, maxy), abs=1e-9
        )
        assert geom.buffer(TOLERANCE).contains(shape({"type": "Point", "coordinates": [region.lon, region.lat]}))
        if region.parent_id is None:
            continue
        parent = regions[region.parent_id]
        assert shape(parent.geometry).buffer(TOLERANCE).contains(geom), (region.level, region.code)
        checked[region.level] = checked.get(region.level, 0) + 1
    for level in ("district", "street", "community", "grid", "estate", "building"):
        assert checked.get(level, 0) >= 1, level
    # Siblings do not overlap: buildings of one estate, estates of one grid.
    for level in ("estate", "building"):
        siblings: dict[int, list] = {}
        for region in regions.values():
            if region.level == level:
                siblings.setdefault(region.parent_id, []).append(shape(region.geometry))  # type: ignore[arg-type]
        for group in siblings.values():
            for i, a in enumerate(group):
                for b in group[i + 1 :]:
                    assert a.intersection(b).area < 1e-12


def test_tiny_residents_identity_numbers_phones_and_tags(tiny: DemoSummary, session: Session) -> None:
    cipher, index = field_cipher(), blind_index()
    persons = session.scalars(select(Person)).all()
    assert len(persons) == tiny.residents
    rooms = {r.id: r for r in session.scalars(select(Region).where(Region.level == "room"))}
    tags: dict[int, set[str]] = {}
    for person_id, tag in session.execute(select(PersonTag.person_id, PersonTag.tag)):
        tags.setdefault(person_id, set()).add(tag)
    phones = 0
    for p in persons:
        number = cipher.decrypt(p.id_number_enc, context="person.id_number")  # type: ignore[arg-type]
        assert id_number_valid(number)
        assert number[:6] == "510104"
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))  # a real calendar day
        assert 1800 <= born.year <= 1899
        assert p.birth_date is not None
        assert (born.year % 100, born.month, born.day) == (
            p.birth_date.year % 100,
            p.birth_date.month,
            p.birth_date.day,
        )
        assert (int(number[16]) % 2 == 1) == (p.gender == "male")
        assert p.id_number_hash == index.digest(number, purpose="id_number")
        if p.phone_enc:
            phone = cipher.decrypt(p.phone_enc, context="person.phone")
            assert re.fullmatch(r"1[3-9]\d{9}", phone)
            assert p.phone_hash == index.digest(phone, purpose="phone")
            phones += 1
        assert p.region_id in rooms
        assert p.region_path == rooms[p.region_id].path
        age = (REFERENCE_DATE - p.birth_date).days // 365
        assert ("elderly" in tags.get(p.id, set())) == (age >= 60), age
        assert ("child" in tags.get(p.id, set())) == (age < 18), age
    assert phones > len(persons) * 0.6
    all_tags = set().union(*tags.values())
    assert {"elderly", "child", "disabled", "party_member"} <= all_tags
    # Every resident lives in exactly one household, whose head lives there too.
    residences = session.execute(select(Residence.person_id, Residence.household_id, Residence.relation)).all()
    assert sorted(r.person_id for r in residences) == sorted(p.id for p in persons)
    assert {r.relation for r in residences} >= {"owner", "tenant", "family"}
    heads = dict(session.execute(select(Household.id, Household.head_person_id)).all())
    members = {(r.household_id, r.person_id) for r in residences}
    assert all((hid, head) in members for hid, head in heads.items())
    assert len(heads) == tiny.households


def test_tiny_organisations_departments_and_responsibilities(tiny: DemoSummary, session: Session) -> None:
    orgs = session.scalars(select(Organisation)).all()
    assert orgs
    assert all(uscc_valid(o.uscc) for o in orgs)
    assert {o.kind for o in orgs} >= {"property_company", "merchant", "enterprise"}
    levels = dict(session.execute(select(Region.id, Region.level)).all())
    assert all(levels[o.region_id] == "estate" for o in orgs if o.kind == "property_company")
    district = session.scalars(select(Region).where(Region.level == "district")).one()
    departments = session.scalars(select(Department).where(Department.region_id == district.id)).all()
    assert "锦江区城市管理局" in {d.name for d in departments}
    rows = session.execute(
        select(Responsibility.case_category, Department.region_id)
        .join(Department, Department.id == Responsibility.department_id)
        .where(Responsibility.region_id == district.id)
    ).all()
    assert {c for c, _ in rows} == {c.code for c in CASE_CATEGORIES}
    assert all(region_id == district.id for _, region_id in rows)


def test_tiny_demo_accounts(tiny: DemoSummary, session_factory: sessionmaker[Session], session: Session) -> None:
    assert demo_exists(session)
    accounts = {a.username: a for a in session.scalars(select(Account))}
    roles = dict(session.execute(select(AccountRole.account_id, AccountRole.role)).all())
    hasher = PasswordHasher()
    for demo in DEMO_ACCOUNTS:
        if demo.role == "app_client":
            client = session.scalars(select(OAuthClient).where(OAuthClient.client_id == demo.username)).one()
            assert set(client.scopes) == set(DEMO_CLIENT_SCOPES)
            assert hasher.verify(client.secret_hash, DEMO_PASSWORD)
            continue
        account = accounts[demo.username]
        assert roles[account.id] == demo.role
        assert account.password_hash
        assert hasher.verify(account.password_hash, DEMO_PASSWORD)
    scope_level = dict(session.execute(select(Region.id, Region.level)).all())
    assert scope_level[accounts["demo-admin"].scope_region_id] == "city"
    assert scope_level[accounts["demo-dispatcher"].scope_region_id] == "district"
    grid = accounts["demo-grid"]
    assert scope_level[grid.scope_region_id] == "grid"
    in_grid = session.scalar(
        select(func.count()).select_from(Person).where(subtree_clause(Person.region_path, grid.scope_path))
    )
    assert in_grid
    assert in_grid > 0
    staff = accounts["demo-department"]
    assert session.get(Department, staff.department_id).region_id == staff.scope_region_id  # type: ignore[union-attr]
    prop = accounts["demo-property"]
    company = session.get(Organisation, prop.organisation_id)
    assert company is not None
    assert company.kind == "property_company"
    assert company.region_id == prop.scope_region_id
    merchant = session.get(Organisation, accounts["demo-merchant"].organisation_id)
    assert merchant is not None
    assert merchant.kind == "merchant"
    assert merchant.region_path.startswith(accounts["demo-merchant"].scope_path)
    resident = accounts["demo-resident"]
    assert resident.phone_hash == blind_index().digest(DEMO_RESIDENT_PHONE, purpose="phone")
    person = session.get(Person, resident.person_id)
    assert person is not None
    assert person.region_path
    assert person.region_path.startswith(resident.scope_path)
    assert field_cipher().decrypt(person.phone_enc, context="person.phone") == DEMO_RESIDENT_PHONE  # type: ignore[arg-type]
    with pytest.raises(Conflict):
        generate(session_factory, size="tiny", traffic=False)


def test_tiny_never_stores_or_logs_plaintext_pii(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    db = tmp_path / "demo.db"
    engine = _fresh_engine(f"sqlite:///{db}")
    plaintexts: dict[str, set[str]] = {"id_number": set(), "phone": set()}
    try:
        summary = generate(
            make_sessionmaker(engine), size="tiny", pii_sink=lambda kind, value: plaintexts[kind].add(value)
        )
        with Session(engine) as session:
            grid_code = session.scalars(select(Region.code).where(Region.level == "grid")).first()
        # Read the database file and its write-ahead log while the connection is still open.
        raw = db.read_bytes() + (
            db.with_name("demo.db-wal").read_bytes() if db.with_name("demo.db-wal").exists() else b""
        )
    finally:
        engine.dispose()
    raw += db.read_bytes()
    out, err = capfd.readouterr()
    logs = (caplog.text + out + err).encode()
    assert len(plaintexts["id_number"]) == summary.residents
    assert len(plaintexts["phone"]) > summary.residents // 2
    assert grid_code
    assert grid_code.encode() in raw  # the scan does see the stored data
    assert "锦江区".encode() in raw
    # Every part of the demo ran here, 智慧出行's traffic included (its vehicle ids are keyed hashes).
    assert (summary.mobility_seeded, summary.mobility_failed) == (list(MOBILITY_PARTS), [])
    for kind, values in plaintexts.items():
        for value in values:
            assert value.encode() not in raw, f"plaintext {kind} found in the database file"
            assert value.encode() not in logs, f"plaintext {kind} found in the logs"
