"""Models of the NGSI-LD entity store: tenants, entities (canonical JSON with a spatial
pre-filter) and the JSON-LD contexts the hub hosts.

``NgsiEntity.data`` is the canonical entity of the hub's shared contract: expanded type and
attribute names, normalized attributes (a list of instances when an attribute has several
``datasetId``s), ``createdAt``/``modifiedAt`` as ISO 8601 UTC text.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Float, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cityos.core.db import Base, JSONType, UTCDateTime, utcnow

BigId = BigInteger().with_variant(Integer, "sqlite")


class NgsiTenant(Base):
    """A tenant (NGSILD-Tenant): created by its first write; ``default`` always exists."""

    __tablename__ = "hub_ngsi_tenant"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class NgsiEntity(Base):
    """One NGSI-LD entity of one tenant."""

    __tablename__ = "hub_ngsi_entity"
    __table_args__ = (
        UniqueConstraint("tenant", "entity_id", name="uq_hub_ngsi_entity_tenant_entity_id"),
        Index("ix_hub_ngsi_entity_tenant_type", "tenant", "type"),
        Index("ix_hub_ngsi_entity_tenant_lon_lat", "tenant", "lon", "lat"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[str] = mapped_column(String(512))
    type: Mapped[str] = mapped_column(String(512))  # expanded IRI
    data: Mapped[dict[str, Any]] = mapped_column(JSONType)
    # Spatial pre-filter of the ``location`` GeoProperty: a representative point and the bbox.
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    min_lon: Mapped[float | None] = mapped_column(Float)
    min_lat: Mapped[float | None] = mapped_column(Float)
    max_lon: Mapped[float | None] = mapped_column(Float)
    max_lat: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    modified_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class NgsiContextDoc(Base):
    """A JSON-LD context hosted by the hub (``POST /ngsi-ld/v1/jsonldContexts``)."""

    __tablename__ = "hub_ngsi_context"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)  # the last path segment of its URL
    body: Mapped[Any] = mapped_column(JSONType)  # the document, {"@context": ...}
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
