"""Per-module parts of the permission matrix; each module owns its file here."""

from __future__ import annotations

from types import ModuleType

from tests.matrix_parts import (
    applications,
    catalogue,
    community_access,
    community_commerce,
    community_dashboard,
    community_governance,
    community_property,
    consult,
    emergency_addressbook,
    emergency_campaigns,
    emergency_command,
    hub_apps,
    hub_catalogue,
    hub_devices,
    hub_ingest,
    licences,
    mobility_alerts,
    mobility_commute,
    mobility_hubs,
    mobility_ingest,
    mobility_monitor,
    mobility_transit,
    proactive,
)

PARTS: tuple[ModuleType, ...] = (
    catalogue,
    licences,
    applications,
    consult,
    proactive,
    community_access,
    community_property,
    community_commerce,
    community_governance,
    community_dashboard,
    emergency_addressbook,
    emergency_campaigns,
    emergency_command,
    hub_devices,
    hub_ingest,
    hub_catalogue,
    hub_apps,
    mobility_ingest,
    mobility_monitor,
    mobility_alerts,
    mobility_transit,
    mobility_hubs,
    mobility_commute,
)
