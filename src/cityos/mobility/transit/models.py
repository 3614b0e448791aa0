"""Models of mobility.transit: an imported GTFS static feed and the rows the TOCC needs of it.

A ``TransitFeed`` owns its routes, stops, trips, stop times and shapes; re-importing the feed's
code replaces them all. GTFS ids are kept as given (strings, unique within the feed); the bus
positions in ``probe_point`` carry the GTFS ``route_id`` and ``trip_id``. Stop times are seconds
after the service day's midnight in the feed's time zone (GTFS allows 25:10:00 for a trip that
runs past midnight, so they may exceed 86,400).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Float, ForeignKey, Index, Integer, SmallInteger, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cityos.core.db import Base, JSONType, UTCDateTime, utcnow

_ID = BigInteger().with_variant(Integer(), "sqlite")

H3_RESOLUTION = 10  # about 66 m: a stop's cell


class TransitFeed(Base):
    __tablename__ = "transit_feed"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    source_ref: Mapped[str | None] = mapped_column(String(512), nullable=True)  # the file's name
    timezone: Mapped[str] = mapped_column(String(64))  # agency_timezone (the city's when absent)
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    routes: Mapped[int] = mapped_column(Integer, default=0)
    stops: Mapped[int] = mapped_column(Integer, default=0)
    trips: Mapped[int] = mapped_column(Integer, default=0)
    stop_times: Mapped[int] = mapped_column(Integer, default=0)
    shapes: Mapped[int] = mapped_column(Integer, default=0)
    warnings: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)  # {code, count}


class TransitRoute(Base):
    __tablename__ = "transit_route"
    __table_args__ = (UniqueConstraint("feed_id", "route_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    feed_id: Mapped[int] = mapped_column(ForeignKey("transit_feed.id", ondelete="CASCADE"))
    route_id: Mapped[str] = mapped_column(String(64))
    short_name: Mapped[str] = mapped_column(String(64), default="")
    long_name: Mapped[str] = mapped_column(String(256), default="")
    route_type: Mapped[int] = mapped_column(SmallInteger, default=3)  # GTFS: 3 bus
    color: Mapped[str | None] = mapped_column(String(8), nullable=True)  # hex without '#'


class TransitStop(Base):
    __tablename__ = "transit_stop"
    __table_args__ = (UniqueConstraint("feed_id", "stop_id"), Index("ix_transit_stop_h3", "h3_cell"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    feed_id: Mapped[int] = mapped_column(ForeignKey("transit_feed.id", ondelete="CASCADE"))
    stop_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200), default="")
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    h3_cell: Mapped[str] = mapped_column(String(16))


class TransitTrip(Base):
    __tablename__ = "transit_trip"
    __table_args__ = (UniqueConstraint("feed_id", "trip_id"), Index("ix_transit_trip_route", "feed_id", "route_id"))

    id: Mapped[int] = mapped_column(_ID, primary_key=True)
    feed_id: Mapped[int] = mapped_column(ForeignKey("transit_feed.id", ondelete="CASCADE"))
    trip_id: Mapped[str] = mapped_column(String(128))
    route_id: Mapped[str] = mapped_column(String(64))
    service_id: Mapped[str] = mapped_column(String(64))
    direction_id: Mapped[int | None] = mapped_column(SmallInteger, nullable=True)
    shape_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    headsign: Mapped[str] = mapped_column(String(200), default="")


class TransitStopTime(Base):
    __tablename__ = "transit_stop_time"
    __table_args__ = (
        UniqueConstraint("feed_id", "trip_id", "stop_sequence"),
        Index("ix_transit_stop_time_stop", "feed_id", "stop_id"),
    )

    id: Mapped[int] = mapped_column(_ID, primary_key=True)
    feed_id: Mapped[int] = mapped_column(ForeignKey("transit_feed.id", ondelete="CASCADE"))
    trip_id: Mapped[str] = mapped_column(String(128))
    stop_id: Mapped[str] = mapped_column(String(64))
    stop_sequence: Mapped[int] = mapped_column(Integer)
    arrival_s: Mapped[int] = mapped_column(Integer)  # seconds after the service day's midnight
    departure_s: Mapped[int] = mapped_column(Integer)


class TransitShape(Base):
    """A GTFS shape as a GeoJSON LineString (lon/lat); a feed without shapes.txt gets one per
    route and direction drawn through the stops of its longest trip (marked ``derived``)."""

    __tablename__ = "transit_shape"
    __table_args__ = (UniqueConstraint("feed_id", "shape_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    feed_id: Mapped[int] = mapped_column(ForeignKey("transit_feed.id", ondelete="CASCADE"))
    shape_id: Mapped[str] = mapped_column(String(64))
    geometry: Mapped[dict[str, Any]] = mapped_column(JSONType)
    length_m: Mapped[float] = mapped_column(Float)
    derived: Mapped[bool] = mapped_column(default=False)
