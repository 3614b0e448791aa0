"""The demo sign-ins: one account per role, all with the same published password."""

from __future__ import annotations

from dataclasses import dataclass

from cityos.core.db import utcnow
from cityos.core.runtime import blind_index
from cityos.demo.writer import BulkWriter
from cityos.identity.models import Account, AccountRole, OAuthClient
from cityos.identity.permissions import Role

DEMO_PASSWORD = "cityos-demo-2026"
# The demo resident's phone (the 199 prefix is never used for generated residents).
DEMO_RESIDENT_PHONE = "19900002026"
DEMO_CLIENT_SCOPES = ("region:read", "organisation:read", "department:read")


@dataclass(frozen=True)
class DemoAccount:
    role: str
    username: str
    scope_hint: str
    display_name: str


DEMO_ACCOUNTS: tuple[DemoAccount, ...] = (
    DemoAccount(Role.ADMIN, "demo-admin", "whole city", "演示管理员"),
    DemoAccount(Role.COMMANDER, "demo-commander", "whole city", "演示指挥长"),
    DemoAccount(Role.DISPATCHER, "demo-dispatcher", "first demo district (成都: 锦江区)", "演示派遣员"),
    DemoAccount(Role.DEPARTMENT_STAFF, "demo-department", "城市管理局 of the first demo district", "演示部门人员"),
    DemoAccount(Role.GRID_WORKER, "demo-grid", "first grid with residents (第1网格)", "演示网格员"),
    DemoAccount(Role.PROPERTY_MANAGER, "demo-property", "an estate in that grid, for its property company", "演示物业"),
    DemoAccount(Role.MERCHANT, "demo-merchant", "a shop in that grid", "演示商户"),
    DemoAccount(
        Role.RESIDENT,
        "demo-resident",
        f"phone {DEMO_RESIDENT_PHONE}: one-time code in the SMS outbox",
        "演示居民",
    ),
    DemoAccount(Role.APP_CLIENT, "demo-app", "OAuth2 client id; secret = the demo password", "演示第三方应用"),
    # 一网通办: the window clerk files for residents (代办); two departments approve in parallel.
    DemoAccount(Role.WINDOW_CLERK, "demo-window", "first demo district, at its 政务服务中心", "演示窗口人员"),
    DemoAccount(Role.DEPARTMENT_STAFF, "demo-mzj", "民政局 of the first demo district", "演示民政局人员"),
    DemoAccount(Role.DEPARTMENT_STAFF, "demo-jtj", "交通运输局 of the first demo district", "演示交通运输局人员"),
    # 智慧社区: the community office of the demo estate's community, and its street, read-only.
    DemoAccount(Role.COMMUNITY_STAFF, "demo-community", "the community of demo-property's estate", "演示社区工作者"),
    DemoAccount(Role.STREET_OBSERVER, "demo-street", "the street of that community (read-only)", "演示街道观察员"),
    # 应急: the building lead (楼栋长) of the demo resident's building in the demo estate.
    DemoAccount(Role.VOLUNTEER, "demo-volunteer", "the demo resident's building (楼栋长)", "演示志愿者"),
    # 数据中台: the data officer of the district's 城市管理局 (datasets, devices, entities); a developer.
    DemoAccount(Role.DATA_OFFICER, "demo-data", "城市管理局 of the first demo district (数据专员)", "演示数据专员"),
    DemoAccount(Role.DEVELOPER, "demo-dev", "whole city (third-party developer)", "演示开发者"),
    # 智慧出行: the TOCC duty officer; the traffic police brigade that receives congestion cases.
    DemoAccount(Role.TRAFFIC_OPERATOR, "demo-tocc", "whole city (交通运行监测中心)", "演示交通监测员"),
    DemoAccount(Role.DEPARTMENT_STAFF, "demo-jj", "交警大队 of the first demo district", "演示交警"),
)


def demo_account(role: str) -> DemoAccount:
    return next(a for a in DEMO_ACCOUNTS if a.role == role)


@dataclass(frozen=True)
class Scope:
    region_id: int
    path: str


@dataclass(frozen=True)
class DemoAnchors:
    """The generated records the demo accounts hang on."""

    city: Scope
    district: Scope
    grid: Scope
    estate: Scope
    resident_scope: Scope
    department_id: int
    property_company_id: int
    merchant_id: int
    resident_person_id: int
    # The first district's departments by kind (zwfw, mzj, jtj …), for the 一网通办 accounts.
    district_departments: dict[str, int] | None = None
    # The community and street above the demo estate, for the 智慧社区 accounts.
    community: Scope | None = None
    street: Scope | None = None


def _volunteer_building(writer: BulkWriter, anchors: DemoAnchors) -> Scope | None:
    """The building of the demo estate where the demo resident lives (else its first building)."""
    from sqlalchemy import select

    from cityos.people.models import Person
    from cityos.places.models import LEVEL_DEPTH, Region, RegionLevel

    writer.flush()
    session = writer.session
    home = session.scalar(select(Person.region_path).where(Person.id == anchors.resident_person_id))
    depth = LEVEL_DEPTH[RegionLevel.BUILDING]
    ids = [int(p) for p in (home or "").strip("/").split("/") if p]
    if home and home.startswith(anchors.estate.path) and len(ids) > depth:
        row = session.execute(select(Region.id, Region.path).where(Region.id == ids[depth])).first()
    else:
        row = session.execute(
            select(Region.id, Region.path)
            .where(Region.parent_id == anchors.estate.region_id, Region.level == RegionLevel.BUILDING.value)
            .order_by(Region.code, Region.id)
            .limit(1)
        ).first()
    return Scope(int(row[0]), str(row[1])) if row is not None else None


def create_demo_accounts(writer: BulkWriter, anchors: DemoAnchors, *, password_hash: str) -> int:
    """Write one account per role (and the OAuth2 client); returns how many were written."""
    a = anchors
    by_kind = a.district_departments or {}
    scopes: dict[str, tuple[Scope, dict[str, int | None]]] = {
        "demo-admin": (a.city, {}),
        "demo-commander": (a.city, {}),
        "demo-dispatcher": (a.district, {}),
        "demo-department": (a.district, {"department_id": a.department_id}),
        "demo-grid": (a.grid, {}),
        "demo-property": (a.estate, {"organisation_id": a.property_company_id}),
        "demo-merchant": (a.grid, {"organisation_id": a.merchant_id}),
        "demo-resident": (a.resident_scope, {"person_id": a.resident_person_id}),
        "demo-window": (a.district, {"department_id": by_kind.get("zwfw")}),
        "demo-mzj": (a.district, {"department_id": by_kind.get("mzj")}),
        "demo-jtj": (a.district, {"department_id": by_kind.get("jtj")}),
        "demo-data": (a.district, {"department_id": a.department_id}),
        "demo-dev": (a.city, {}),
        "demo-tocc": (a.city, {}),
        "demo-jj": (a.district, {"department_id": by_kind.get("jj")}),
    }
    if a.community is not None:
        scopes["demo-community"] = (a.community, {})
    if a.street is not None:
        scopes["demo-street"] = (a.street, {})
    building = _volunteer_building(writer, a)
    if building is not None:
        scopes["demo-volunteer"] = (building, {})
    now = utcnow()
    written = 0
    for demo in DEMO_ACCOUNTS:
        if demo.role == Role.APP_CLIENT:
            writer.add(
                OAuthClient,
                {
                    "id": writer.new_id(OAuthClient),
                    "client_id": demo.username,
                    "secret_hash": password_hash,
                    "name": demo.display_name,
                    "scopes": list(DEMO_CLIENT_SCOPES),
                    "scope_region_id": a.city.region_id,
                    "scope_path": a.city.path,
                    "organisation_id": None,
                    "active": True,
                    "created_at": now,
                    "description": "Demo third-party app (client credentials).",
                },
            )
            written += 1
            continue
        if demo.username not in scopes:
            continue
        scope, links = scopes[demo.username]
        account_id = writer.new_id(Account)
        phone = DEMO_RESIDENT_PHONE if demo.role == Role.RESIDENT else None
        writer.add(
            Account,
            {
                "id": account_id,
                "username": demo.username,
                "phone_hash": blind_index().digest(phone, purpose="phone") if phone else None,
                "password_hash": password_hash,
                "display_name": demo.display_name,
                "person_id": links.get("person_id"),
                "department_id": links.get("department_id"),
                "organisation_id": links.get("organisation_id"),
                "scope_region_id": scope.region_id,
                "scope_path": scope.path,
                "locale": None,
                "active": True,
                "failed_attempts": 0,
                "locked_until": None,
                "last_sign_in_at": None,
                "created_at": now,
            },
        )
        writer.add(
            AccountRole,
            {"id": writer.new_id(AccountRole), "account_id": account_id, "role": demo.role},
        )
        written += 1
    return written
