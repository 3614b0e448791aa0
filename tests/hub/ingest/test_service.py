"""Registering hub devices, listing them within one's area, rotating keys, profiles."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from cityos.core.errors import Conflict, Forbidden, Invalid, NotFound
from cityos.hub.ingest import service
from cityos.hub.ingest.models import IngestBinding
from cityos.hub.ngsi.service import get_entity
from cityos.places.devices import service as devices
from tests.hub.ingest.conftest import IngestWorld, register


def fields(exc: pytest.ExceptionInfo[Invalid]) -> set[str]:
    return {d.field for d in exc.value.details}


def test_register_binds_the_device_to_its_profile_and_entity(session: Session, iw: IngestWorld) -> None:
    device, key = register(session, iw, "bin-001", "waste-container", kind="bin")
    assert key.startswith("dk_")
    assert devices.by_key(session, key).id == device.id
    binding = session.scalar(select(IngestBinding).where(IngestBinding.device_id == device.id))
    assert binding is not None
    assert (binding.tenant, binding.entity_id) == ("default", "urn:ngsi-ld:WasteContainer:bin-001")
    assert binding.key_enc is not None
    assert key not in binding.key_enc
    assert service.device_key(binding) == key
    entity = get_entity(session, tenant="default", entity_id="urn:ngsi-ld:WasteContainer:bin-001")
    assert entity is not None
    assert entity["https://uri.etsi.org/ngsi-ld/location"]["value"] == {"type": "Point", "coordinates": [104.06, 30.65]}


def test_register_refuses_bad_input_with_every_field(session: Session, iw: IngestWorld) -> None:
    with pytest.raises(Invalid) as exc:
        service.register_device(
            session, iw.officer, code="x", kind="Bin!", name=" ", region_id=iw.world.grid1.id,
            profile_code="toaster", tenant="bad tenant", lon=200.0, lat=-95.0,
        )  # fmt: skip
    assert fields(exc) == {"profile_code", "tenant", "lon", "lat"}
    with pytest.raises(Invalid) as exc:
        service.register_device(
            session, iw.officer, code="x", kind="Bin!", name=" ", region_id=iw.world.grid1.id,
            profile_code="meter",
        )  # fmt: skip
    assert fields(exc) == {"code", "kind", "name"}
    assert session.scalar(select(IngestBinding.id)) is None


def test_register_outside_ones_area_or_twice_is_refused(session: Session, iw: IngestWorld) -> None:
    with pytest.raises(Invalid) as exc:
        service.register_device(
            session, iw.far, code="far-1", kind="meter", name="表", region_id=iw.world.grid1.id, profile_code="meter"
        )
    assert fields(exc) == {"region_id"}
    with pytest.raises(Forbidden):
        service.register_device(
            session, iw.resident, code="res-1", kind="meter", name="表", region_id=iw.world.room.id,
            profile_code="meter",
        )  # fmt: skip
    register(session, iw, "meter-1", "meter")
    with pytest.raises(Conflict):
        register(session, iw, "meter-1", "meter")


def test_list_devices_stays_within_the_area_and_filters(session: Session, iw: IngestWorld) -> None:
    register(session, iw, "bin-1", "waste-container", kind="bin")
    register(session, iw, "spot-1", "parking-spot", kind="parking_spot")
    service.register_device(
        session, iw.officer, code="bin-2", kind="bin", name="二号桶", region_id=iw.world.grid2.id,
        profile_code="waste-container",
    )  # fmt: skip
    devices.register(
        session,
        iw.officer,
        code="gate-x",
        kind="gate",
        name="门",
        region_id=iw.world.grid1.id,
        permission="device:manage",
    )  # fmt: skip  (a device that is not in the hub)
    rows, total = service.list_devices(session, iw.officer)
    assert total == 3
    assert [r.device.code for r in rows] == ["bin-1", "bin-2", "spot-1"]
    rows, total = service.list_devices(session, iw.officer, kind="bin", region_id=iw.world.grid1.id)
    assert total == 1
    assert rows[0].binding.profile_code == "waste-container"
    rows, total = service.list_devices(session, iw.officer, limit=1, offset=1)
    assert total == 3
    assert [r.device.code for r in rows] == ["bin-2"]
    assert service.list_devices(session, iw.far) == ([], 0)
    with pytest.raises(Invalid) as exc:
        service.list_devices(session, iw.officer, status="sleepy", limit=0, offset=-1, region_id=iw.world.district_b.id)
    assert fields(exc) == {"status", "limit", "offset", "region_id"}
    with pytest.raises(Forbidden):
        service.list_devices(session, iw.resident)


def test_rotate_key_replaces_the_old_key(session: Session, iw: IngestWorld) -> None:
    device, old = register(session, iw, "lvl-1", "water-level", kind="water_level")
    new = service.rotate_key(session, iw.officer, device_id=device.id)
    assert new != old
    assert devices.by_key(session, new).id == device.id
    with pytest.raises(NotFound):
        devices.by_key(session, old)
    row = service.get_device(session, iw.officer, device_id=device.id)
    assert service.device_key(row.binding) == new
    with pytest.raises(NotFound):
        service.rotate_key(session, iw.far, device_id=device.id)  # outside their area: not found
    with pytest.raises(NotFound):
        service.get_device(session, iw.officer, device_id=device.id + 1000)


def test_profiles_are_listed_by_code(session: Session, iw: IngestWorld) -> None:
    codes = [p.code for p in service.profiles(session)]
    assert codes == sorted(codes)
    assert "traffic-loop" in codes


@pytest.mark.parametrize(
    "profile", ["waste-container", "parking-spot", "traffic-loop", "water-level", "manhole-cover", "gate-door", "meter"]
)
def test_every_shipped_profile_registers_a_valid_entity(session: Session, iw: IngestWorld, profile: str) -> None:
    device, _ = register(session, iw, f"d-{profile}", profile)
    row = service.get_device(session, iw.officer, device_id=device.id)
    assert get_entity(session, tenant="default", entity_id=row.binding.entity_id) is not None
