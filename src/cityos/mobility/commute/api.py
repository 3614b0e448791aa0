"""JSON routes of mobility.commute: ``/api/v1/mobility/commute/{od,corridors,districts,trips}``
(traffic:read) and ``trips/import`` (traffic:manage)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, UploadFile

from cityos.core.actor import Actor
from cityos.core.http import DbSession
from cityos.core.i18n import translate
from cityos.identity.deps import CurrentActor
from cityos.mobility.commute import analysis, corridors, imports, service
from cityos.mobility.commute.schemas import (
    CorridorsRead,
    DistrictCommuteRead,
    DistrictsRead,
    ImportResult,
    OdMatrixRead,
    OdPairRead,
    ReferenceRead,
    TripImport,
    TripPage,
    TripRead,
    WindowRead,
    ZoneRead,
)

router = APIRouter(prefix="/api/v1/mobility/commute", tags=["mobility"])


def _manager(actor: CurrentActor) -> Actor:
    # Checked as a dependency, so a caller without the permission hears 403 before a missing file's 422.
    actor.require(service.MANAGE)
    return actor


Manager = Annotated[Actor, Depends(_manager)]

Day = Annotated[date | None, Query(description="A local day (the city's time zone)")]
Start = Annotated[datetime | None, Query(description="Range start (with day unset)")]
End = Annotated[datetime | None, Query(description="Range end")]
Peak = Annotated[str, Query(description="am | pm | all")]


def window_read(w: analysis.Window) -> WindowRead:
    return WindowRead(start=w.start, end=w.end, day=w.day)


@router.get("/od", response_model=OdMatrixRead)
def od(
    session: DbSession,
    actor: CurrentActor,
    day: Day = None,
    start: Start = None,
    end: End = None,
    peak: Peak = "all",
    level: Annotated[str, Query(description="district | h3")] = "district",
) -> OdMatrixRead:
    m = analysis.od_matrix(session, actor, day=day, start=start, end=end, peak=peak, level=level)
    return OdMatrixRead(
        level=m.level,
        peak=m.peak,
        window=window_read(m.window),
        trips=m.trips,
        zones=[ZoneRead(key=z.key, name=z.name, lon=z.lon, lat=z.lat) for z in m.zones.values()],
        pairs=[OdPairRead(**vars(p)) for p in m.pairs],
    )


@router.get("/corridors", response_model=CorridorsRead)
def corridor_map(
    session: DbSession,
    actor: CurrentActor,
    day: Day = None,
    start: Start = None,
    end: End = None,
    peak: Peak = "am",
    level: Annotated[str, Query(description="district | h3 | auto")] = "auto",
    top: Annotated[int, Query(ge=1, le=corridors.MAX_TOP)] = 10,
    network: Annotated[str | None, Query(description="Road network code (default: the active one)")] = None,
) -> CorridorsRead:
    c = corridors.corridors(
        session, actor, day=day, start=start, end=end, peak=peak, level=level, top=top, network_code=network
    )
    return CorridorsRead(
        level=c.level, peak=c.peak, window=window_read(c.window), network=c.network, corridors=c.collection
    )


@router.get("/districts", response_model=DistrictsRead)
def districts(
    session: DbSession, actor: CurrentActor, day: Day = None, start: Start = None, end: End = None
) -> DistrictsRead:
    d = analysis.district_commutes(session, actor, day=day, start=start, end=end)
    ref = d.reference
    return DistrictsRead(
        window=window_read(d.window),
        districts=[DistrictCommuteRead(**vars(x)) for x in d.districts],
        reference=ReferenceRead(label=translate(ref.label), minutes=ref.minutes, km=ref.km, source=ref.source),
    )


@router.get("/trips", response_model=TripPage)
def trips(
    session: DbSession,
    actor: CurrentActor,
    day: Day = None,
    start: Start = None,
    end: End = None,
    mode: Annotated[str | None, Query()] = None,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> TripPage:
    actor.require(service.READ)
    w = analysis.window(session, day=day, start=start, end=end)
    rows, total = service.list_trips(session, actor, start=w.start, end=w.end, mode=mode, offset=offset, limit=limit)
    return TripPage(items=[TripRead.model_validate(r) for r in rows], total=total)


@router.post("/trips/import", response_model=ImportResult, status_code=201)
def import_trips(body: TripImport, session: DbSession, actor: Manager) -> ImportResult:
    result = service.import_trips(session, actor, rows=body.records)
    return ImportResult(written=result.written, duplicates=result.duplicates)


@router.post("/trips/import-file", response_model=ImportResult, status_code=201)
def import_file(file: UploadFile, session: DbSession, actor: Manager) -> ImportResult:
    """A CSV or Parquet file of OD records (multipart field ``file``), checked as the JSON import."""
    rows = imports.read_bytes(file.file.read(imports.MAX_FILE_BYTES + 1), file.filename or "")
    result = service.import_trips(session, actor, rows=rows)
    return ImportResult(written=result.written, duplicates=result.duplicates)
