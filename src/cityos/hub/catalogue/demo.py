"""Demo records of the data catalogue: datasets of the demo district's 城市管理局 (the department
of ``demo-data``) in each class, a request of its 民政局 (``demo-mzj``) approved ten days ago with
the reporter's name and the address masked, a restricted file dataset waiting for its second
approval, and reads spread over the last days so the usage chart and the read log show
something."""

from __future__ import annotations

import random
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from cityos.core.actor import Actor, subtree_clause
from cityos.core.db import utcnow
from cityos.hub.catalogue import grants, records
from cityos.hub.catalogue import service as catalogue
from cityos.identity.deps import actor_for_account
from cityos.identity.models import Account
from cityos.identity.permissions import ROLE_PERMISSIONS
from cityos.people.models import Department
from cityos.places.models import Region

VENDORS_CSV = (
    "name,phone,spot,goods,lon,lat\n"
    "王建国,13800138001,春熙路口,水果,104.0801,30.6571\n"
    "李秀英,13900139002,太古里北侧,小吃,104.0832,30.6554\n"
    "张伟,13700137003,天府广场东,饮品,104.0660,30.6574\n"
)
VENDOR_FIELDS = [
    {"name": "name", "type": "name", "description": "摊主姓名", "sensitivity": "personal"},
    {"name": "phone", "type": "phone", "description": "联系电话", "sensitivity": "personal"},
    {"name": "spot", "type": "string", "description": "经营点位", "sensitivity": "none"},
    {"name": "goods", "type": "string", "description": "经营品类", "sensitivity": "none"},
    {"name": "lon", "type": "lon", "description": "经度", "sensitivity": "personal"},
    {"name": "lat", "type": "lat", "description": "纬度", "sensitivity": "personal"},
]


def _actor(session: Session, username: str, department: Department, role: str, city: Region) -> Actor:
    account = session.scalar(select(Account).where(Account.username == username))
    if account is not None and account.department_id == department.id:
        return actor_for_account(session, account)
    return Actor(
        account_id=None,
        label=username,
        roles=frozenset({role}),
        permissions=ROLE_PERMISSIONS[role],
        scope_path=city.path,
        scope_region_id=city.id,
        department_id=department.id,
    )


def _department(session: Session, city: Region, slug: str, preferred: str) -> Department | None:
    account = session.scalar(select(Account).where(Account.username == preferred))
    if account is not None and account.department_id is not None:
        dept = session.get(Department, account.department_id)
        if dept is not None:
            return dept
    return session.scalar(
        select(Department)
        .where(subtree_clause(Department.region_path, city.path), Department.code.like(f"%-{slug}"))
        .order_by(Department.parent_id.is_(None), Department.id)
        .limit(1)
    )


def seed(
    session: Session, *, city: Region, estate: Region | None, rng: random.Random, upload_dir: Path | None = None
) -> None:
    """Idempotent: nothing is done when the demo datasets exist or the departments are missing."""
    owner = _department(session, city, "cgj", "demo-data")
    other = _department(session, city, "mzj", "demo-mzj")
    if owner is None or other is None or catalogue.find(session, "cg.cases") is not None:
        return
    grants.install(session)
    officer = _actor(session, "demo-data", owner, "data_officer", city)
    staff = _actor(session, "demo-mzj", other, "department_staff", city)
    now = utcnow()
    catalogue.create_dataset(
        session,
        officer,
        code="cg.devices",
        name="城管物联设备清单",
        description="辖区内城管物联感知设备（垃圾桶满溢、井盖、积水监测等）的编码、类型、位置和状态。",
        access_class="open",
        kind="table",
        source="places.devices",
        frequency="hourly",
        tags=["物联网", "城市管理"],
    )
    catalogue.create_dataset(
        session,
        officer,
        code="cg.cases",
        name="城管案件",
        description="城管局受理的城市管理案件：类别、标题、状态、地点和时间。反映人和地址为个人信息。",
        access_class="shared",
        kind="table",
        source="cases",
        frequency="realtime",
        tags=["工单", "城市管理"],
    )
    catalogue.create_dataset(
        session,
        officer,
        code="cg.waste-containers",
        name="垃圾桶实时状态",
        description="NGSI-LD WasteContainer 实体：满溢度、位置、最近更新时间。",
        access_class="shared",
        kind="entity_type",
        source="WasteContainer",
        fields=[
            {"name": "id", "type": "string", "description": "实体编号", "sensitivity": "none"},
            {"name": "fillingLevel", "type": "number", "description": "满溢度", "sensitivity": "none"},
            {"name": "location", "type": "point", "description": "位置", "sensitivity": "none"},
            {"name": "modifiedAt", "type": "datetime", "description": "更新时间", "sensitivity": "none"},
        ],
        frequency="realtime",
        tags=["物联网", "环卫"],
    )
    catalogue.create_dataset(
        session,
        officer,
        code="cg.street-vendors",
        name="流动摊贩登记",
        description="疏导点登记的流动摊贩：摊主、电话、点位和品类。受限共享，需两人审批。",
        access_class="restricted",
        kind="file",
        fields=[dict(f) for f in VENDOR_FIELDS],
        frequency="monthly",
        tags=["市容", "民生"],
        file=VENDORS_CSV.encode("utf-8"),
        file_name="street-vendors.csv",
        upload_dir=upload_dir,
    )
    asked = now - timedelta(days=10)
    request = grants.request_access(
        session,
        staff,
        "cg.cases",
        purpose="核对困难群众反映的城市管理问题，跟进帮扶",
        fields=["no", "category_code", "title", "status", "address", "reporter_label", "created_at"],
        days=180,
        now=asked,
    )
    grants.approve(
        session,
        officer,
        request.id,
        masked=["address", "reporter_label"],
        comment="同意，反映人和地址脱敏",
        now=asked + timedelta(hours=20),
    )
    vendors = grants.request_access(
        session, staff, "cg.street-vendors", purpose="低保户经营情况核查", fields=["name", "spot", "goods"], days=90
    )
    grants.approve(session, officer, vendors.id, masked=["name"], comment="初审同意")
    for back in range(9, -1, -1):
        for _ in range(rng.randint(0, 3)):
            at = now - timedelta(days=back, minutes=rng.randint(0, 600))
            if at <= asked + timedelta(hours=20):
                continue
            records.read_records(session, staff, "cg.cases", limit=rng.choice((20, 50)), now=at)
        if rng.random() < 0.5:
            records.read_records(session, staff, "cg.devices", limit=50, now=now - timedelta(days=back))
    records.read_records(session, officer, "cg.cases", limit=20, now=now)
    session.flush()
