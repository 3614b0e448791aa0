"""The deterministic synthetic demo city on top of a real city's districts and streets."""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import structlog
from argon2 import PasswordHasher
from shapely.geometry import Polygon
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from cityos.core.db import unit_of_work, utcnow
from cityos.core.errors import Conflict, FieldError, Invalid
from cityos.core.i18n import N_
from cityos.core.runtime import blind_index, field_cipher
from cityos.core.settings import get_settings
from cityos.demo import divisions, geometry
from cityos.demo.accounts import DEMO_ACCOUNTS, DEMO_PASSWORD, DEMO_RESIDENT_PHONE, DemoAnchors, Scope
from cityos.demo.accounts import create_demo_accounts as _create_accounts
from cityos.demo.catalogue import CASE_CATEGORIES, DEPARTMENTS, department_code
from cityos.demo.divisions import CityDivisions, Division, region_row
from cityos.demo.identifiers import Usccs
from cityos.demo.names import Namer, city_short_name
from cityos.demo.parts import seed_parts
from cityos.demo.population import PiiSink, Population, RoomRef
from cityos.demo.writer import BulkWriter
from cityos.identity.models import Account
from cityos.people.models import Department, Organisation, OrganisationKind, Responsibility
from cityos.places import index
from cityos.places.divisions import MSG_UNKNOWN_CITY, import_divisions
from cityos.places.models import Region, RegionLevel

Size = Literal["tiny", "small", "city"]

MSG_SIZE = N_("Unknown demo size {size}; choose one of {sizes}.")
MSG_CITY = N_("The demo can draw the cities {codes}, not {code}.")
MSG_EXISTS = N_("A demo city already exists in this database.")
MSG_TAKEN = N_("This database already has communities; generate the demo into a fresh database.")
COMMUNITY_PARTS = ("access", "property", "commerce", "governance")
HUB_PARTS = ("devices", "catalogue", "apps")
# 智慧出行: the road network and its traffic first, then what reads it; the monitor computes, alerts last.
MOBILITY_PARTS = ("network", "transit", "hubs", "commute", "monitor", "alerts")
log = structlog.get_logger(__name__)
Progress = Callable[[str, int, int], None]
"""progress(stage, done, total): called as each stage advances."""

# Approximate centres of cities the demo knows how to draw (lon, lat).
CITY_CENTRES: dict[str, tuple[float, float]] = {
    "5101": (104.066, 30.657),  # 成都
    "1101": (116.397, 39.909),  # 北京
    "3101": (121.473, 31.230),  # 上海
    "4401": (113.264, 23.129),  # 广州
    "4403": (114.058, 22.543),  # 深圳
    "3301": (120.155, 30.274),  # 杭州
    "4201": (114.305, 30.593),  # 武汉
    "6101": (108.940, 34.341),  # 西安
    "3201": (118.797, 32.060),  # 南京
    "5001": (106.551, 29.563),  # 重庆
}


@dataclass(frozen=True)
class SizeSpec:
    max_districts: int | None  # real districts kept (None: all of them)
    max_streets: int | None  # real streets kept per district
    populated_districts: int | None  # districts that get communities and residents (None: all)
    communities: tuple[int, int]  # per street
    grids: tuple[int, int]  # per community
    estates: tuple[int, int]  # per grid
    buildings: tuple[int, int]  # per estate
    units: tuple[int, int]  # per building
    floors: tuple[int, int]
    rooms_per_floor: int
    occupancy: float
    merchants: tuple[int, int]  # per grid
    enterprises: tuple[int, int]  # per community


SIZES: dict[str, SizeSpec] = {
    "tiny": SizeSpec(1, 2, 1, (2, 2), (2, 2), (1, 2), (2, 3), (1, 1), (3, 5), 2, 0.85, (1, 2), (1, 1)),
    "small": SizeSpec(None, None, 3, (2, 3), (2, 3), (1, 1), (2, 4), (1, 2), (3, 6), 2, 0.85, (1, 2), (1, 2)),
    "city": SizeSpec(None, None, None, (8, 10), (4, 5), (2, 3), (3, 6), (1, 1), (1, 3), 2, 0.79, (1, 2), (1, 3)),
}


@dataclass
class DemoSummary:
    size: str
    seed: int
    city_code: str
    regions: dict[str, int] = field(default_factory=dict)  # new rows by level
    residents: int = 0
    households: int = 0
    organisations: int = 0
    departments: int = 0
    responsibilities: int = 0
    accounts: int = 0
    # 智慧社区 parts whose demo records were seeded for the demo estate, and those that failed.
    community_seeded: list[str] = field(default_factory=list)
    community_failed: list[str] = field(default_factory=list)
    # 数据中台 parts likewise (devices and readings, datasets and grants, light apps).
    hub_seeded: list[str] = field(default_factory=list)
    hub_failed: list[str] = field(default_factory=list)
    mobility_seeded: list[str] = field(default_factory=list)
    mobility_failed: list[str] = field(default_factory=list)
    seconds: float = 0.0


def demo_exists(session: Session) -> bool:
    """True when a demo city has been generated in this database."""
    return session.scalar(select(Account.id).where(Account.username == DEMO_ACCOUNTS[0].username)) is not None


def generate(
    session_factory: sessionmaker[Session],
    *,
    size: Size,
    seed: int = 2026,
    city_code: str = "5101",
    progress: Progress | None = None,
    divisions_dir: Path | None = None,
    pii_sink: PiiSink | None = None,
    traffic: bool = True,
) -> DemoSummary:
    """Generate the demo city (committing district by district) and return what was made.
    ``traffic=False`` leaves out 智慧出行 (a road network and its day of traffic: the heaviest part).

    ``pii_sink`` receives every plaintext identity number and phone generated; it exists for
    the leak test and must not be used to print or store them.
    """
    if size not in SIZES:
        raise Invalid(details=[FieldError("size", MSG_SIZE, {"size": size, "sizes": ", ".join(SIZES)})])
    if city_code not in CITY_CENTRES:
        raise Invalid(
            details=[FieldError("city_code", MSG_CITY, {"code": city_code, "codes": ", ".join(CITY_CENTRES)})]
        )
    started = time.perf_counter()
    report = progress or _silent
    with unit_of_work(session_factory) as session:
        if demo_exists(session):
            raise Conflict(MSG_EXISTS)
        spec = SIZES[size]
        city = _real_divisions(session, spec, city_code, divisions_dir or get_settings().divisions_dir, report)
        gen = _Generator(session, spec, seed, city_code, report, pii_sink)
        gen.mobility_parts = MOBILITY_PARTS if traffic else ()
        gen.run(city)
        summary = gen.summary(size)
    summary.seconds = round(time.perf_counter() - started, 2)
    return summary


def _real_divisions(
    session: Session, spec: SizeSpec, city_code: str, divisions_dir: Path, progress: Progress
) -> CityDivisions:
    """The real city, districts and streets the demo is built on (imported when missing)."""
    taken = session.scalar(select(func.count()).select_from(Region).where(Region.level == RegionLevel.COMMUNITY))
    if taken:
        raise Conflict(MSG_TAKEN)
    if spec.max_districts is None and spec.max_streets is None:
        import_divisions(
            session,
            city_code=city_code,
            divisions_dir=divisions_dir,
            progress=lambda done, total: progress("divisions", done, total),
        )
    else:
        progress("divisions", 0, 1)
        writer = BulkWriter(session)
        divisions.import_subset(
            writer,
            city_code=city_code,
            divisions_dir=divisions_dir,
            max_districts=spec.max_districts,
            max_streets=spec.max_streets,
        )
        writer.finish()
        progress("divisions", 1, 1)
    loaded = divisions.load(session, city_code)
    if loaded is None:
        raise Invalid(details=[FieldError("city_code", MSG_UNKNOWN_CITY, {"code": city_code})])
    if spec.max_districts is not None:
        loaded.districts = loaded.districts[: spec.max_districts]
    if spec.max_streets is not None:
        loaded.streets = {k: v[: spec.max_streets] for k, v in loaded.streets.items()}
    return loaded


def _silent(stage: str, done: int, total: int) -> None:
    return None


@dataclass
class _Anchor:
    """Records the first populated grid, for the demo accounts."""

    grid: Scope | None = None
    estate: Scope | None = None
    resident_scope: Scope | None = None
    property_company_id: int | None = None
    merchant_id: int | None = None
    community: Scope | None = None
    street: Scope | None = None


class _Generator:
    def __init__(
        self,
        session: Session,
        spec: SizeSpec,
        seed: int,
        city_code: str,
        progress: Progress,
        pii_sink: PiiSink | None,
    ) -> None:
        self.session = session
        self.spec = spec
        self.seed = seed
        self.city_code = city_code
        self.progress = progress
        self.rng = random.Random(seed)
        self.namer = Namer(self.rng, seed)
        self.writer = BulkWriter(session)
        self.usccs = Usccs(self.rng)
        self.pop = Population(self.writer, self.rng, self.namer, field_cipher(), blind_index(), pii_sink)
        self.pop.reserved_phone = DEMO_RESIDENT_PHONE
        self.levels: Counter[str] = Counter()
        self.frame = geometry.Frame(CITY_CENTRES[city_code][1])
        self.anchor = _Anchor()
        self.city_short = ""
        self.organisations = 0
        self.accounts = 0
        self.district_departments: dict[str, int] = {}
        self.community_seeded: list[str] = []
        self.community_failed: list[str] = []
        self.hub_seeded: list[str] = []
        self.hub_failed: list[str] = []
        self.mobility_seeded: list[str] = []
        self.mobility_failed: list[str] = []
        self.mobility_parts: tuple[str, ...] = MOBILITY_PARTS
        self.city_id: int | None = None

    # stages -----------------------------------------------------------------
    def run(self, city: CityDivisions) -> None:
        self.city_short = city_short_name(city.city.name)
        self.city_id = city.city.id
        self.levels[RegionLevel.CITY.value] = 1
        self.levels[RegionLevel.DISTRICT.value] = len(city.districts)
        self.levels[RegionLevel.STREET.value] = sum(len(v) for v in city.streets.values())
        district_polys = self._city_geometry(city)
        populated = city.districts[: self.spec.populated_districts] if self.spec.populated_districts else city.districts
        total_streets = sum(len(city.streets[d.id]) for d in populated)
        done = 0
        self.progress("residents", 0, total_streets)
        for district, dpoly in zip(city.districts, district_polys, strict=True):
            streets = city.streets[district.id]
            if not streets:
                continue
            seeds = geometry.random_points(self.rng, dpoly, len(streets))
            street_polys = geometry.partition(dpoly, seeds)
            self.writer.update_regions(
                [_geo_update(s.id, p) for s, p in zip(streets, street_polys, strict=True)],
            )
            if district not in populated:
                continue
            for street, spoly in zip(streets, street_polys, strict=True):
                self._street(district, street, spoly)
                done += 1
                self.progress("residents", done, total_streets)
            self.writer.flush()
            self.session.commit()
        self.writer.flush()
        self.progress("departments", 0, 1)
        department_id = self._departments(city)
        self.progress("departments", 1, 1)
        self.progress("accounts", 0, 1)
        self._accounts(city, populated[0], department_id)
        self.writer.finish()
        self.progress("accounts", 1, 1)
        self._index()
        self._services()
        self._services_history(populated[0])
        self._community_demo()
        self._hub_demo()

    def _services(self) -> None:
        """一网通办: the demo resident's 居民身份证 and 户口簿 as e-licences, so applying needs no upload."""
        if self.pop.reserved_person_id is None:
            return
        from cityos.services.licences import service as licences

        licences.registry_credentials(self.session, self.pop.reserved_person_id)
        self.session.flush()

    def _services_history(self, district: Division) -> None:
        """一网通办: past applications of the first district's residents, decided and rated, so the
        statistics, the inboxes and the 好差评 figures have something to show."""
        from cityos.registry import install_shipped
        from cityos.services import demo as services_demo

        region = self.session.get(Region, district.id)
        if region is None:
            return
        self.progress("services", 0, 1)
        install_shipped(self.session)  # the items, departments' kinds and processes the history uses
        services_demo.seed(self.session, district=region, rng=random.Random(f"{self.seed}-services"))
        self.session.flush()
        self.progress("services", 1, 1)

    def _community_demo(self) -> None:
        """智慧社区: each part's demo records (``community/<part>/demo.py``) for the demo estate."""
        estate = self.session.get(Region, self.anchor.estate.region_id) if self.anchor.estate else None
        community = self.session.get(Region, self.anchor.community.region_id) if self.anchor.community else None
        if estate is None or community is None:
            return
        # What `cityos db upgrade` installs and the parts' records rely on (each step is idempotent).
        from cityos.cases import processes
        from cityos.cases import service as cases
        from cityos.community import setup as community_setup

        cases.install_categories(self.session)
        processes.install(self.session)
        community_setup.install(self.session)
        self.session.flush()
        seeded, failed = seed_parts(
            self.session, self.progress, "community", COMMUNITY_PARTS, self.seed, estate=estate, community=community
        )
        self.community_seeded += seeded
        self.community_failed += failed

    def _hub_demo(self) -> None:
        """数据中台 and 智慧出行: each part's demo records (``hub/<part>/demo.py``, ``mobility/<part>/demo.py``)."""
        city = self.session.get(Region, self.city_id) if self.city_id is not None else None
        if city is None:
            return
        estate = self.session.get(Region, self.anchor.estate.region_id) if self.anchor.estate else None
        from cityos.hub import setup as hub_setup

        hub_setup.install(self.session)
        self.session.flush()
        seeded, failed = seed_parts(self.session, self.progress, "hub", HUB_PARTS, self.seed, city=city, estate=estate)
        self.hub_seeded, self.hub_failed = self.hub_seeded + seeded, self.hub_failed + failed
        seeded, failed = seed_parts(self.session, self.progress, "mobility", self.mobility_parts, self.seed, city=city)
        self.mobility_seeded, self.mobility_failed = self.mobility_seeded + seeded, self.mobility_failed + failed

    def _city_geometry(self, city: CityDivisions) -> list[Polygon]:
        n = len(city.districts)
        centre = CITY_CENTRES[self.city_code]
        radius = max(0.12, 0.15 * n**0.5)
        outline = geometry.city_outline(self.rng, centre, radius)
        rings: list[list[Division]] = [[], [], []]
        for d in city.districts:
            rings[_ring(d)].append(d)
        if n == 1:
            seeds = [centre]
        else:
            seeds = geometry.ring_seeds(self.rng, centre, radius, [len(r) for r in rings])
        ordered = [d for ring in rings for d in ring]
        cells = geometry.partition(outline, seeds, relax=0)
        by_id = {d.id: cell for d, cell in zip(ordered, cells, strict=True)}
        self.writer.update_regions([_geo_update(city.city.id, outline)])
        polys = [by_id[d.id] for d in city.districts]
        self.writer.update_regions([_geo_update(d.id, p) for d, p in zip(city.districts, polys, strict=True)])
        return polys

    # the region tree below a street ----------------------------------------------
    def _street(self, district: Division, street: Division, spoly: Polygon) -> None:
        r, spec = self.rng, self.spec
        n = r.randint(*spec.communities)
        polys = geometry.partition(spoly, geometry.random_points(r, spoly, n))
        rural = street.name.endswith(("镇", "乡"))
        names = self.namer.unique_words(n, "村" if rural and r.random() < 0.6 else "社区")
        for i, (cpoly, cname) in enumerate(zip(polys, names, strict=True)):
            code = f"{street.code}{i + 1:03d}"  # 12 digits: street 9 + community 3
            cid, cpath = self._region(code, cname, RegionLevel.COMMUNITY, street, cpoly)
            community = Division(cid, code, cname, cpath)
            if r.random() < 0.7:
                self._organisation(OrganisationKind.NGO, self.namer.ngo(cname), community, district)
            self._community(district, community, cpoly)

    def _community(self, district: Division, community: Division, cpoly: Polygon) -> None:
        r, spec = self.rng, self.spec
        n = r.randint(*spec.grids)
        polys = geometry.partition(cpoly, geometry.random_points(r, cpoly, n))
        grids: list[Division] = []
        for i, gpoly in enumerate(polys):
            code = f"{community.code}{i + 1:03d}"  # 15 digits, GB/T 30428
            gid, gpath = self._region(code, f"第{i + 1}网格", RegionLevel.GRID, community, gpoly)
            grid = Division(gid, code, f"{community.name}第{i + 1}网格", gpath)
            grids.append(grid)
            self._grid(district, grid, gpoly)
        for _ in range(r.randint(*spec.enterprises)):
            self._organisation(
                OrganisationKind.ENTERPRISE, self.namer.enterprise(self.city_short), r.choice(grids), district
            )

    def _grid(self, district: Division, grid: Division, gpoly: Polygon) -> None:
        r, spec = self.rng, self.spec
        estates = geometry.place_estates(r, gpoly, r.randint(*spec.estates), self.frame)
        names = self.namer.estates(len(estates))
        merchants = [
            self._organisation(OrganisationKind.MERCHANT, self.namer.merchant(), grid, district)
            for _ in range(r.randint(*spec.merchants))
        ]
        households_before = self.pop.households
        first_estate: tuple[Scope, int] | None = None
        for i, (epoly, ename) in enumerate(zip(estates, names, strict=True)):
            code = f"{grid.code}{i + 1:03d}"
            eid, epath = self._region(code, ename, RegionLevel.ESTATE, grid, epoly)
            estate = Division(eid, code, ename, epath)
            company = self._organisation(
                OrganisationKind.PROPERTY_COMPANY, self.namer.property_company(self.city_short), estate, district
            )
            first_estate = first_estate or (Scope(eid, epath), company)
            self._estate(district, estate, epoly)
        if self.anchor.grid is None and self.pop.households > households_before and first_estate and merchants:
            self.anchor.grid = Scope(grid.id, grid.path)
            self.anchor.community = _parent_scope(grid.path)
            self.anchor.street = _parent_scope(self.anchor.community.path)
            self.anchor.estate, self.anchor.property_company_id = first_estate
            self.anchor.merchant_id = merchants[0]

    def _estate(self, district: Division, estate: Division, epoly: Polygon) -> None:
        r, spec = self.rng, self.spec
        buildings = geometry.place_buildings(r, epoly, r.randint(*spec.buildings), self.frame)
        for b, bpoly in enumerate(buildings):
            floors = r.randint(*spec.floors)
            bcode = f"{estate.code}{b + 1:03d}"
            bid, bpath = self._region(bcode, f"{b + 1}栋", RegionLevel.BUILDING, estate, bpoly, {"floors": floors})
            building = Division(bid, bcode, f"{b + 1}栋", bpath)
            for u in range(r.randint(*spec.units)):
                ucode = f"{bcode}{u + 1:02d}"
                uid, upath = self._region(ucode, f"{u + 1}单元", RegionLevel.UNIT, building)
                unit = Division(uid, ucode, f"{u + 1}单元", upath)
                for floor in range(1, floors + 1):
                    for k in range(1, spec.rooms_per_floor + 1):
                        rname = f"{floor}{k:02d}"
                        rid, rpath = self._region(f"{ucode}{floor:02d}{k:02d}", rname, RegionLevel.ROOM, unit)
                        if r.random() < spec.occupancy:
                            self.pop.fill_room(RoomRef(rid, rpath, district.code))
                            if self.pop.reserved_person_id is not None and self.anchor.resident_scope is None:
                                self.anchor.resident_scope = Scope(estate.id, estate.path)

    def _region(
        self,
        code: str,
        name: str,
        level: RegionLevel,
        parent: Division,
        poly: Polygon | None = None,
        attrs: dict[str, object] | None = None,
    ) -> tuple[int, str]:
        region_id = self.writer.new_id(Region)
        path = f"{parent.path}{region_id}/"
        geo = geometry.geo_fields(poly) if poly is not None else None
        self.writer.add(Region, region_row(region_id, code, name, level, parent.id, path, geo, attrs))
        self.levels[level.value] += 1
        return region_id, path

    def _organisation(self, kind: OrganisationKind, name: str, region: Division, district: Division) -> int:
        registrar, sub = {
            OrganisationKind.NGO: ("5", "2"),
            OrganisationKind.MERCHANT: ("9", "2"),
        }.get(kind, ("9", "1"))
        org_id = self.writer.new_id(Organisation)
        self.writer.add(
            Organisation,
            {
                "id": org_id,
                "uscc": self.usccs.issue(registrar=registrar, kind=sub, area=district.code),
                "name": name,
                "kind": kind.value,
                "region_id": region.id,
                "region_path": region.path,
                "address": f"{self.city_short}{district.name}{region.name}",
                "created_at": utcnow(),
            },
        )
        self.organisations += 1
        return org_id

    # departments, accounts, index ---------------------------------------------------
    def _departments(self, city: CityDivisions) -> int:
        """City and district departments and the 权责清单; returns the first district's 城管局."""
        now = utcnow()
        city_ids: dict[str, int] = {}
        first_cgj = 0
        for region in [city.city, *city.districts]:
            is_city = region is city.city
            ids: dict[str, int] = {}
            for kind in DEPARTMENTS:
                dep_id = self.writer.new_id(Department)
                ids[kind.slug] = dep_id
                self.writer.add(
                    Department,
                    {
                        "id": dep_id,
                        "code": department_code(region.code, kind.slug),
                        "name": region.name + (kind.city_name if is_city else kind.district_name),
                        "region_id": region.id,
                        "region_path": region.path,
                        "parent_id": None if is_city else city_ids[kind.slug],
                        "created_at": now,
                    },
                )
            if is_city:
                city_ids = ids
            elif not first_cgj:
                first_cgj = ids["cgj"]
                self.district_departments = dict(ids)
            for category in CASE_CATEGORIES:
                self.writer.add(
                    Responsibility,
                    {
                        "id": self.writer.new_id(Responsibility),
                        "department_id": ids[category.department],
                        "case_category": category.code,
                        "region_id": region.id,
                        "region_path": region.path,
                    },
                )
        self.writer.flush()
        return first_cgj

    def _accounts(self, city: CityDivisions, district: Division, department_id: int) -> None:
        a = self.anchor
        if (
            a.grid is None
            or a.estate is None
            or a.resident_scope is None
            or a.property_company_id is None
            or a.merchant_id is None
            or self.pop.reserved_person_id is None
        ):
            raise RuntimeError("the demo city has no populated grid to anchor the demo accounts")
        anchors = DemoAnchors(
            city=Scope(city.city.id, city.city.path),
            district=Scope(district.id, district.path),
            grid=a.grid,
            estate=a.estate,
            resident_scope=a.resident_scope,
            department_id=department_id,
            property_company_id=a.property_company_id,
            merchant_id=a.merchant_id,
            resident_person_id=self.pop.reserved_person_id,
            district_departments=self.district_departments,
            community=a.community,
            street=a.street,
        )
        self.accounts = _create_accounts(self.writer, anchors, password_hash=PasswordHasher().hash(DEMO_PASSWORD))

    def _index(self) -> None:
        self.progress("index", 0, 1)
        index.rebuild_cells(self.session, progress=lambda done, total: self.progress("index", done, total))

    def summary(self, size: str) -> DemoSummary:
        counts = self.writer.counts
        return DemoSummary(
            size=size,
            seed=self.seed,
            city_code=self.city_code,
            regions=dict(self.levels),
            residents=self.pop.persons,
            households=self.pop.households,
            organisations=self.organisations,
            departments=counts[Department.__tablename__],
            responsibilities=counts[Responsibility.__tablename__],
            accounts=self.accounts,
            community_seeded=list(self.community_seeded),
            community_failed=list(self.community_failed),
            hub_seeded=list(self.hub_seeded),
            hub_failed=list(self.hub_failed),
            mobility_seeded=list(self.mobility_seeded),
            mobility_failed=list(self.mobility_failed),
        )


def _ring(d: Division) -> int:
    """0: core urban district, 1: other district (区), 2: county or county-level city."""
    if d.name.endswith("区"):
        return 0 if int(d.code[-2:]) < 10 else 1
    return 2


def _parent_scope(path: str) -> Scope:
    """The parent of the region at ``path`` ('/1/5/9/' → region 5 at '/1/5/')."""
    ids = path.strip("/").split("/")
    return Scope(int(ids[-2]), "/" + "/".join(ids[:-1]) + "/")


def _geo_update(region_id: int, poly: Polygon) -> dict[str, object]:
    row: dict[str, object] = {"b_id": region_id, **geometry.geo_fields(poly)}
    row["updated_at"] = utcnow()
    return row
