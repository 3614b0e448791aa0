"""Models of mobility.hubs: the transport hubs (综合交通枢纽) whose passenger flow the TOCC watches.

A hub is a point with a radius: probe fixes inside the circle count as the hub's taxi supply,
drop-offs and pick-ups; its cameras' ``video_count`` rows (by ``hub_code`` or one of
``camera_ids``) give the passengers by mode and the taxi queue.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from cityos.core.db import Base, JSONType, PathType, UTCDateTime, utcnow

HUB_KINDS: tuple[str, ...] = ("rail", "airport", "coach", "metro")


class TransportHub(Base):
    __tablename__ = "transport_hub"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))  # HUB_KINDS
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    radius_m: Mapped[float] = mapped_column(Float)
    region_id: Mapped[int | None] = mapped_column(ForeignKey("region.id", ondelete="SET NULL"), nullable=True)
    region_path: Mapped[str] = mapped_column(PathType, index=True)  # "/" when in no region of the tree
    camera_ids: Mapped[list[str]] = mapped_column(JSONType, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
