"""The device registry: one row per physical device, placed in a region, with its latest state."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from cityos.core.db import Base, JSONType, PathType, UTCDateTime, utcnow


class DeviceStatus(StrEnum):
    ONLINE = "online"
    OFFLINE = "offline"
    FAULT = "fault"  # 故障
    ALARM = "alarm"  # reporting a problem (bin full, door forced …)


class Device(Base):
    """``kind`` says what it is (gate, camera, parking_spot, locker, bin, meter_water, meter_power,
    elevator, pump, fire_panel, loop_detector …); ``state`` holds its latest readings
    (e.g. ``{"fill_level": 0.8}``); ``key_hash`` is the hash of its device key, for devices that
    call the platform themselves (gates, sensors)."""

    __tablename__ = "device"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    name: Mapped[str] = mapped_column(String(128))
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    region_path: Mapped[str] = mapped_column(PathType, index=True)
    lon: Mapped[float | None] = mapped_column(Float, nullable=True)
    lat: Mapped[float | None] = mapped_column(Float, nullable=True)
    status: Mapped[str] = mapped_column(String(16), default=DeviceStatus.ONLINE, index=True)
    state: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    key_hash: Mapped[str | None] = mapped_column(String(64), nullable=True, unique=True)
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
