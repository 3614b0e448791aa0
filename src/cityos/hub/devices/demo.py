"""Demo devices of the data hub (called by the demo generator): a few dozen sensors of the shipped
profiles with three hours of readings, fed through the ingest writer like real ones.

In the demo estate: garbage bins (one overflowing: the community opens its case), parking spot
sensors (about half occupied) and a gate contact. On the city's streets: manhole covers (one
tilted), water level gauges (one over the street alarm threshold after rain) and traffic loop
detectors. The alarm rules are applied to the last readings here, so the device pages show
their alarms at once; the bus delivering the same readings later changes nothing.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cityos.core.actor import SYSTEM, subtree_clause
from cityos.core.db import utcnow
from cityos.hub.devices import reactions, service
from cityos.hub.events import DeviceObserved
from cityos.hub.ingest import service as ingest
from cityos.hub.ingest.pipeline import Inbound, process
from cityos.hub.ingest.profiles import iso
from cityos.places.devices.models import Device
from cityos.places.models import Region

READINGS = 6  # per device: every 30 minutes over the last three hours
STEP = timedelta(minutes=30)
PREFIX = "HUB"


@dataclass(frozen=True)
class Planned:
    code: str
    kind: str
    profile: str
    name: str
    region: Region
    lon: float
    lat: float
    values: list[dict[str, Any]]  # one payload per reading, oldest first


def _near(rng: random.Random, region: Region, spread: float) -> tuple[float, float]:
    lon = region.lon if region.lon is not None else 104.07
    lat = region.lat if region.lat is not None else 30.66
    return round(lon + rng.uniform(-spread, spread), 6), round(lat + rng.uniform(-spread, spread), 6)


def _streets(session: Session, city: Region, n: int) -> list[Region]:
    rows = session.scalars(
        select(Region)
        .where(Region.level == "street", subtree_clause(Region.path, city.path), Region.lon.is_not(None))
        .order_by(Region.code)
        .limit(n)
    ).all()
    return list(rows) or [city]


def _estate_devices(rng: random.Random, estate: Region) -> list[Planned]:
    out: list[Planned] = []
    streams = ("厨余", "可回收", "其他", "有害")
    for i in range(8):
        full = i == 0  # one bin overflows in the last reading
        start = rng.uniform(20, 50)
        fills = [min(100.0, start + step * rng.uniform(3, 8)) for step in range(READINGS)]
        if full:
            fills[-1] = 96.0
        else:
            fills = [min(f, 85.0) for f in fills]
        lon, lat = _near(rng, estate, 0.0015)
        out.append(
            Planned(
                f"{PREFIX}-BIN-{i + 1:03d}",
                "bin",
                "waste-container",
                f"{i // 4 + 1}号垃圾房{streams[i % 4]}桶",
                estate,
                lon,
                lat,
                [{"fill": round(f, 1), "temperature": round(rng.uniform(12, 24), 1), "status": "ok"} for f in fills],
            )
        )
    for i in range(12):
        lon, lat = _near(rng, estate, 0.0012)
        occupied = rng.random() < 0.5
        states = [("occupied" if rng.random() < 0.5 else "free") for _ in range(READINGS - 1)]
        states.append("occupied" if occupied else "free")
        out.append(
            Planned(
                f"{PREFIX}-PARK-{i + 1:03d}",
                "parking_spot",
                "parking-spot",
                f"地面车位 {i + 1:02d}",
                estate,
                lon,
                lat,
                [{"status": s} for s in states],
            )
        )
    lon, lat = _near(rng, estate, 0.001)
    out.append(
        Planned(
            f"{PREFIX}-GATE-001",
            "gate",
            "gate-door",
            "东门门磁",
            estate,
            lon,
            lat,
            [{"door": rng.choice(("closed", "open"))} for _ in range(READINGS - 1)] + [{"door": "closed"}],
        )
    )
    return out


def _street_devices(rng: random.Random, streets: list[Region], now: datetime) -> list[Planned]:
    out: list[Planned] = []
    for i in range(8):
        street = streets[i % len(streets)]
        lon, lat = _near(rng, street, 0.004)
        tilts = [round(rng.uniform(0, 3), 1) for _ in range(READINGS)]
        if i == 0:
            tilts[-2:] = [18.5, 23.0]  # knocked by a lorry
        out.append(
            Planned(
                f"{PREFIX}-MH-{i + 1:03d}",
                "manhole",
                "manhole-cover",
                f"{street.name}井盖 {i + 1}",
                street,
                lon,
                lat,
                [{"tilt": t, "state": "displaced" if t > 15 else "closed"} for t in tilts],
            )
        )
    for i in range(5):
        street = streets[(i + 3) % len(streets)]
        lon, lat = _near(rng, street, 0.004)
        levels = [round(rng.uniform(0.0, 0.08), 2) for _ in range(READINGS)]
        if i == 0:
            levels[-3:] = [0.12, 0.26, 0.38]  # a low underpass after a downpour
        out.append(
            Planned(
                f"{PREFIX}-WL-{i + 1:03d}",
                "water_level",
                "water-level",
                f"{street.name}积水监测 {i + 1}",
                street,
                lon,
                lat,
                [{"level": v} for v in levels],
            )
        )
    for i in range(6):
        street = streets[i % len(streets)]
        lon, lat = _near(rng, street, 0.003)
        values = []
        for step in range(READINGS):
            end = now - STEP * (READINGS - 1 - step)
            speed = round(rng.uniform(18, 55), 1)
            values.append(
                {
                    "count": rng.randint(40, 260),
                    "occupancy": round(rng.uniform(5, 45), 1),
                    "speed": speed,
                    "lane": 1 + i % 3,
                    "from": iso(end - timedelta(minutes=5)),
                    "to": iso(end),
                    "segment": f"urn:ngsi-ld:RoadSegment:{street.code}-{i % 3 + 1}",
                }
            )
        out.append(
            Planned(
                f"{PREFIX}-LOOP-{i + 1:03d}",
                "loop_detector",
                "traffic-loop",
                f"{street.name}线圈 {i + 1}",
                street,
                lon,
                lat,
                values,
            )
        )
    return out


def seed(session: Session, *, city: Region, estate: Region | None, rng: random.Random) -> None:
    """Registers the demo devices (skipped when they exist) and feeds their readings."""
    service.install_rules(session)
    if session.scalar(select(Device.id).where(Device.code.like(f"{PREFIX}-%")).limit(1)) is not None:
        return
    now = utcnow().replace(microsecond=0)
    planned = (_estate_devices(rng, estate) if estate is not None else []) + _street_devices(
        rng, _streets(session, city, 6), now
    )
    batch: list[Inbound] = []
    made: list[Device] = []
    for p in planned:
        device, _key = ingest.register_device(
            session,
            SYSTEM,
            code=p.code,
            kind=p.kind,
            name=p.name,
            region_id=p.region.id,
            profile_code=p.profile,
            lon=p.lon,
            lat=p.lat,
        )
        made.append(device)
        for step, values in enumerate(p.values):
            ts = now - STEP * (len(p.values) - 1 - step)
            body = {"mid": f"demo-{step}", "ts": iso(ts), "values": values}
            batch.append(Inbound(channel="http", device_id=device.id, body=body, device_code=p.code, tenant="default"))
    process(session, batch, now=now)
    # The reactions to the last readings, now (the bus runs them again later: no change then).
    for device in made:
        binding = ingest.binding_for(session, device.id)
        if binding is None:
            continue
        evt = DeviceObserved(
            tenant=binding[0].tenant,
            device_code=device.code,
            device_kind=device.kind,
            entity_id=binding[0].entity_id,
            entity_type=binding[0].entity_type,
            attrs=dict(device.state or {}),
            observed_at=iso(now),
            lon=device.lon,
            lat=device.lat,
        )
        reactions.feed_community(session, evt)
        reactions.apply_rules(session, evt)
    session.flush()
