"""The demo city's road network and its past day of traffic (called by the demo generator).

A grid of streets (``schema.grid_network``: expressway ring, arterials, secondary and branch
streets) is laid in the demo city's first district, around a point inside its polygon, and
shrunk until every segment lies inside the district. It is saved as the network ``demo``
(source ``demo``, which turns the live feed on: ``scenario/live.py``). Then the past 24 hours of
the built-in generator's traffic — loop detectors on the arterials and the expressway, taxi and
ride-hailing probes, a navigation-speed feed from the ground truth with noise — go through the
ingest service like any feed, so the TOCC board has a day of charts at once.
"""

from __future__ import annotations

import random
from datetime import timedelta

import polars as pl
import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import select
from sqlalchemy.orm import Session

from cityos.core.actor import subtree_clause
from cityos.core.db import utcnow
from cityos.places.models import Region

from .models import RoadNetwork
from .schema import DEMO_CENTRE, grid_network
from .service import save_segments

ROWS = COLS = 6
SPACING_M = (300.0, 220.0, 160.0, 110.0, 80.0)  # tried in turn until the grid fits the district
HISTORY = timedelta(hours=24)


def _first_district(session: Session, city: Region) -> Region | None:
    """The city's first district (by code) that has a polygon (a JSON null is no polygon)."""
    districts = session.scalars(
        select(Region).where(Region.level == "district", subtree_clause(Region.path, city.path)).order_by(Region.code)
    )
    return next((d for d in districts if d.geometry), None)


def _area(region: Region | None) -> BaseGeometry | None:
    if region is None or not region.geometry:
        return None
    try:
        geom = shape(region.geometry)
    except (ValueError, TypeError, AttributeError):
        return None
    return None if geom.is_empty else geom


def fit_grid(area: BaseGeometry | None) -> pl.DataFrame:
    """The largest of the tried grids that lies inside ``area``, centred on a point in it
    (the polygon's centroid when that lies inside, else its representative point)."""
    if area is None:
        return grid_network(ROWS, COLS, SPACING_M[0], *DEMO_CENTRE)
    centroid = area.centroid
    centre = centroid if area.contains(centroid) else area.representative_point()
    grid = grid_network(ROWS, COLS, SPACING_M[-1], centre.x, centre.y)
    for spacing in SPACING_M:
        grid = grid_network(ROWS, COLS, spacing, centre.x, centre.y)
        if inside(grid, area):
            return grid
    return grid


def inside(segments: pl.DataFrame, area: BaseGeometry) -> bool:
    lines = [shapely.linestrings(lo, la) for lo, la in zip(segments["lons"], segments["lats"], strict=True)]
    return bool(shapely.contains(area, lines).all())


def seed(session: Session, *, city: Region, rng: random.Random) -> None:
    """Lay the demo network and ingest its past day (nothing when the network exists)."""
    from cityos.mobility.scenario import live
    from cityos.mobility.scenario.replay import floor_time

    if session.scalar(select(RoadNetwork.id).where(RoadNetwork.code == live.DEMO_NETWORK)) is not None:
        return
    district = _first_district(session, city)
    area = _area(district) or _area(city)
    segments = fit_grid(area)
    where = district.code if district is not None else city.code
    save_segments(
        session,
        live.DEMO_NETWORK,
        segments,
        name=f"{(district or city).name} 演示路网",
        source=live.DEMO_SOURCE,
        source_ref=f"grid {ROWS}x{COLS} in region {where}",
    )
    end = floor_time(utcnow(), 300)
    live.feed(session, segments, start=end - HISTORY, end=end)
    session.flush()
