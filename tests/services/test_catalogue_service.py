"""Service catalogue: install, the shipped records, departments by kind, local sites, checked writes."""

from __future__ import annotations

import pytest
from jsonschema.validators import validator_for
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityos.core.actor import SYSTEM
from cityos.core.errors import Conflict, Forbidden, Invalid, NotFound
from cityos.services.catalogue import service as catalogue
from cityos.services.catalogue.models import LocalSite, ServiceBundle, ServiceItem
from cityos.services.catalogue.schemas import LocalSiteIn
from cityos.services.licences.models import CredentialKind
from tests.factories import make_actor, make_world
from tests.services.catalogue_fixtures import departments, install, item_record

PERSON_KEYS = {"name", "id_number", "gender", "birth_date", "phone", "address"}


def _fields(exc: pytest.ExceptionInfo[Invalid]) -> dict[str, str]:
    return {d.field: d.message for d in exc.value.details}


def test_install_is_idempotent_and_keeps_edits_out_of_shipped_codes(session: Session) -> None:
    install(session)
    items = session.scalar(select(func.count()).select_from(ServiceItem))
    assert items is not None
    assert items >= 30
    assert session.scalar(select(func.count()).select_from(ServiceBundle)) == 3
    mine = catalogue.create_item(session, SYSTEM, item_record("mzj-901"))
    shipped = catalogue.get_item(session, "gaj-001")
    shipped.name = "被改过的名字"
    session.flush()
    install(session)
    assert session.scalar(select(func.count()).select_from(ServiceItem)) == items + 1
    assert catalogue.get_item(session, "gaj-001").name == "出生登记(户口申报)"  # changed back to the shipped record
    assert catalogue.get_item(session, "mzj-901").id == mine.id  # never deleted


def test_every_shipped_record_is_complete_and_valid(session: Session) -> None:
    install(session)
    data = catalogue.shipped()
    codes = {i["code"] for i in data["items"]}
    assert len(codes) == len(data["items"]) == 33
    for raw in data["items"]:
        checked = catalogue.check_item(session, raw)  # the same checks an admin's paste gets
        schema = raw["form_schema"]
        validator_for(schema).check_schema(schema)
        assert schema["$schema"].endswith("2020-12/schema")
        assert all(p.get("title") for p in schema["properties"].values()), raw["code"]
        assert set(schema["required"]) <= set(schema["properties"])
        assert checked.guide.count("【") >= 3
        assert "咨询电话" in checked.guide
        assert (checked.promised_days or 0) <= checked.time_limit_days
        if len(checked.department_kinds) > 1:
            assert checked.process_key == "service_parallel"
        if checked.instant:
            assert checked.process_key == "service_instant"
        if checked.audience == "business":
            assert {"org_name", "uscc"} & set(schema["properties"]), raw["code"]
        if checked.kind == "licence":
            assert checked.result_credential_kind, raw["code"]
    for bundle in data["bundles"]:
        assert set(bundle["item_codes"]) <= codes


def test_elderly_card_needs_no_upload_with_an_id_card(session: Session) -> None:
    install(session)
    item = catalogue.get_item(session, "mzj-002")
    assert item.department_kinds == ["mzj", "jtj"]
    assert item.process_key == "service_parallel"
    assert item.result_credential_kind == "elderly_card"
    assert [m["credential_kind"] for m in item.materials if m.get("required")] == ["id_card"]
    uploads = [k for k, p in item.form_schema["properties"].items() if "contentMediaType" in p]
    assert uploads == []
    assert set(item.form_schema["required"]) <= PERSON_KEYS  # all filled from the person record


def test_department_for_prefers_the_district_then_the_city(session: Session) -> None:
    world = make_world(session)
    d = departments(session, world)
    assert catalogue.department_for(session, kind="mzj", region=world.room) == d["a-mzj"]
    assert catalogue.department_for(session, kind="gaj", region=world.room) == d["city-gaj"]
    assert catalogue.department_for(session, kind="mzj", region=world.district_b) == d["city-mzj"]
    assert catalogue.department_for(session, kind="gaj", region=world.district_b) == d["b-gaj"]
    assert catalogue.department_for(session, kind="ybj", region=world.room) is None


def test_a_district_site_hides_items_and_brands_the_portal(session: Session) -> None:
    install(session)
    world = make_world(session)
    admin = make_actor(session, roles=["admin"], scope=world.city)
    resident = make_actor(session, roles=["resident"], scope=world.city)
    city = catalogue.save_local_site(
        session, admin, region_id=world.city.id, data=LocalSiteIn(site_name="测试市政务服务网")
    )
    site = catalogue.save_local_site(
        session,
        admin,
        region_id=world.district_a.id,
        data=LocalSiteIn(site_name="甲区站", theme_color="#AA3300", hidden_item_codes=["zjj-001", "zjj-001"]),
    )
    assert site.hidden_item_codes == ["zjj-001"]
    assert site.theme_color == "#aa3300"
    assert catalogue.local_site_for(session, world.room) == site
    assert catalogue.local_site_for(session, world.district_b) == city
    in_a = {i.code for i in catalogue.list_items(session, resident, region=world.room)}
    in_b = {i.code for i in catalogue.list_items(session, resident, region=world.district_b)}
    assert "zjj-001" not in in_a
    assert "zjj-001" in in_b
    assert len(in_b) == 33
    assert len(in_a) == 32


def test_local_sites_are_for_districts_and_the_city_within_scope(session: Session) -> None:
    install(session)
    world = make_world(session)
    admin_a = make_actor(session, roles=["admin"], scope=world.district_a)
    with pytest.raises(Forbidden):
        catalogue.save_local_site(session, admin_a, region_id=world.district_b.id, data=LocalSiteIn(site_name="乙"))
    with pytest.raises(Invalid) as bad:
        catalogue.save_local_site(
            session, admin_a, region_id=world.street.id, data=LocalSiteIn(site_name="街", hidden_item_codes=["no-1"])
        )
    assert _fields(bad) == {
        "region_id": catalogue.MSG_SITE_LEVEL,
        "hidden_item_codes.0": catalogue.MSG_ITEM_MISSING,
    }
    with pytest.raises(NotFound):
        catalogue.save_local_site(session, admin_a, region_id=999_999, data=LocalSiteIn(site_name="无"))
    assert session.scalar(select(func.count()).select_from(LocalSite)) == 0


def test_list_filters(session: Session) -> None:
    install(session)
    world = make_world(session)
    resident = make_actor(session, roles=["resident"], scope=world.room)
    business = catalogue.list_items(session, resident, audience="business")
    assert {i.code for i in business} >= {"scjgj-001", "sj-001", "yjj-001"}
    assert len(business) == 10
    assert [i.code for i in catalogue.list_items(session, resident, q="优待")] == ["mzj-002"]
    assert {i.code for i in catalogue.list_items(session, resident, department_kind="jtj")} == {"jtj-001", "mzj-002"}
    assert all(i.kind == "licence" for i in catalogue.list_items(session, resident, kind="licence"))
    catalogue.get_item(session, "jtj-001").active = False
    session.flush()
    assert "jtj-001" not in {i.code for i in catalogue.list_items(session, resident)}
    clerkless = make_actor(session, roles=["app_client"], scope=world.room)
    with pytest.raises(Forbidden):
        catalogue.list_items(session, clerkless)


def test_bundle_items_keep_the_bundle_order(session: Session) -> None:
    install(session)
    bundle = catalogue.get_bundle(session, "business")
    assert [i.code for i in catalogue.bundle_items(session, bundle)] == ["scjgj-001", "gaj-006", "sj-001", "rsj-004"]
    with pytest.raises(NotFound):
        catalogue.get_bundle(session, "nope")
    with pytest.raises(NotFound):
        catalogue.get_item(session, "nope-1")


def test_item_writes_list_every_problem_and_store_nothing(session: Session) -> None:
    install(session)
    before = session.scalar(select(func.count()).select_from(ServiceItem))
    bad = item_record(
        "mzj-902",
        form_schema={"type": "object", "properties": {"name": {"type": "strin"}}},
        materials=[
            {"key": "id_card", "title": "身份证", "credential_kind": "id_card"},
            {"key": "id_card", "title": "说明", "field": "reason"},
        ],
        promised_days=99,
        time_limit_days=5,
    )
    with pytest.raises(Invalid) as exc:
        catalogue.create_item(session, SYSTEM, bad)
    assert "form_schema" in _fields(exc)
    assert "promised_days" in _fields(exc)
    typed = item_record("Bad Code", channels=["fax"], time_limit_days=-1, surprise=1)
    with pytest.raises(Invalid) as exc2:
        catalogue.create_item(session, SYSTEM, typed)
    assert {"code", "channels.0", "time_limit_days", "surprise"} <= set(_fields(exc2))
    materials = item_record(
        "mzj-903",
        materials=[
            {"key": "a", "title": "甲", "credential_kind": "id_card"},
            {"key": "b", "title": "乙", "field": "missing"},
            {"key": "b", "title": "丙", "field": "name"},
        ],
    )
    with pytest.raises(Invalid) as exc3:
        catalogue.create_item(session, SYSTEM, materials)
    assert set(_fields(exc3)) == {"materials.1.field", "materials.2.key"}
    both = item_record(
        "mzj-903", materials=[{"key": "a", "title": "甲", "credential_kind": "id_card", "field": "name"}]
    )
    with pytest.raises(Invalid) as exc4:
        catalogue.create_item(session, SYSTEM, both)
    assert _fields(exc4) == {"materials.0": "A material names either a credential kind or a form field, not both."}
    with pytest.raises(Conflict):
        catalogue.create_item(session, SYSTEM, item_record("mzj-003"))
    assert session.scalar(select(func.count()).select_from(ServiceItem)) == before


def test_credential_kinds_are_checked_once_there_are_any(session: Session) -> None:
    install(session)
    record = item_record("mzj-904", result_credential_kind="no_such_kind")
    session.add(CredentialKind(code="id_card", name="居民身份证", issuer_department_kind="gaj", fields=[]))
    session.add(CredentialKind(code="household_register", name="居民户口簿", issuer_department_kind="gaj", fields=[]))
    session.flush()
    with pytest.raises(Invalid) as exc:
        catalogue.create_item(session, SYSTEM, record)
    assert set(_fields(exc)) == {"result_credential_kind"}
    record["result_credential_kind"] = None
    assert catalogue.create_item(session, SYSTEM, record).code == "mzj-904"


def test_update_replaces_the_record_and_keeps_the_code(session: Session) -> None:
    install(session)
    world = make_world(session)
    resident = make_actor(session, roles=["resident"], scope=world.room)
    record = item_record("mzj-003", name="高龄津贴申领（新）", time_limit_days=15, promised_days=5)
    assert catalogue.update_item(session, SYSTEM, "mzj-003", record).time_limit_days == 15
    with pytest.raises(Invalid):
        catalogue.update_item(session, SYSTEM, "mzj-003", item_record("mzj-005"))
    with pytest.raises(Forbidden):
        catalogue.update_item(session, resident, "mzj-003", record)
    with pytest.raises(NotFound):
        catalogue.update_item(session, SYSTEM, "mzj-999", item_record("mzj-999"))


def test_bundle_writes_check_their_items(session: Session) -> None:
    install(session)
    with pytest.raises(Invalid) as exc:
        catalogue.create_bundle(
            session, SYSTEM, {"code": "moving", "name": "搬家一件事", "item_codes": ["gaj-003", "x-1"]}
        )
    assert _fields(exc) == {"item_codes.1": catalogue.MSG_ITEM_MISSING}
    bundle = catalogue.create_bundle(
        session, SYSTEM, {"code": "moving", "name": "搬家一件事", "item_codes": ["gaj-003", "jyj-001"]}
    )
    assert bundle.id is not None
    with pytest.raises(Conflict):
        catalogue.create_bundle(
            session, SYSTEM, {"code": "moving", "name": "再来", "item_codes": ["gaj-003", "jyj-001"]}
        )
    updated = catalogue.update_bundle(
        session, SYSTEM, "moving", {"code": "moving", "name": "迁居一件事", "item_codes": ["gaj-003", "jyj-001"]}
    )
    assert updated.name == "迁居一件事"
