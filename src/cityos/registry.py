"""Imports every module's models so ``Base.metadata`` is complete (Alembic, tests)."""

from sqlalchemy.orm import Session

from cityos.cases import models as cases_models
from cityos.community.access import models as access_models
from cityos.community.commerce import models as commerce_models
from cityos.community.dashboard import models as dashboard_models
from cityos.community.governance import models as governance_models
from cityos.community.property import models as property_models
from cityos.core import models as core_models
from cityos.emergency.addressbook import models as addressbook_models
from cityos.emergency.campaigns import models as campaigns_models
from cityos.emergency.command import models as command_models
from cityos.hub.apps import models as hub_apps_models
from cityos.hub.catalogue import models as hub_catalogue_models
from cityos.hub.devices import models as hub_devices_models
from cityos.hub.ingest import models as hub_ingest_models
from cityos.hub.ngsi import models as ngsi_models
from cityos.hub.subscriptions import models as hub_subscriptions_models
from cityos.hub.temporal import models as hub_temporal_models
from cityos.identity import models as identity_models
from cityos.mobility.alerts import models as mobility_alerts_models
from cityos.mobility.commute import models as mobility_commute_models
from cityos.mobility.hubs import models as mobility_hubs_models
from cityos.mobility.ingest import models as mobility_ingest_models
from cityos.mobility.monitor import models as mobility_monitor_models
from cityos.mobility.network import models as road_network_models
from cityos.mobility.transit import models as mobility_transit_models
from cityos.people import models as people_models
from cityos.places import models as places_models
from cityos.places.devices import models as devices_models
from cityos.services.applications import models as applications_models
from cityos.services.catalogue import models as catalogue_models
from cityos.services.consult import models as consult_models
from cityos.services.licences import models as licences_models
from cityos.services.proactive import models as proactive_models
from cityos.workflow import models as workflow_models

MODEL_MODULES = (
    core_models,
    places_models,
    devices_models,
    people_models,
    identity_models,
    workflow_models,
    cases_models,
    catalogue_models,
    licences_models,
    applications_models,
    consult_models,
    proactive_models,
    access_models,
    property_models,
    commerce_models,
    governance_models,
    dashboard_models,
    addressbook_models,
    campaigns_models,
    command_models,
    ngsi_models,
    hub_subscriptions_models,
    hub_temporal_models,
    hub_ingest_models,
    hub_devices_models,
    hub_catalogue_models,
    hub_apps_models,
    road_network_models,
    mobility_ingest_models,
    mobility_transit_models,
    mobility_hubs_models,
    mobility_commute_models,
    mobility_monitor_models,
    mobility_alerts_models,
)


def subscribe_all(bus: object) -> None:
    """Every module's bus handlers (called once per process, when the runtime is created)."""
    from cityos.cases import tasks as cases_tasks
    from cityos.core.bus import Bus
    from cityos.services.applications import tasks as applications_tasks
    from cityos.services.proactive import tasks as proactive_tasks

    assert isinstance(bus, Bus)
    cases_tasks.register(bus)
    applications_tasks.register(bus)
    proactive_tasks.register(bus)
    from cityos.community.setup import TASKS as community_tasks
    from cityos.emergency.setup import TASKS as emergency_tasks
    from cityos.hub.setup import TASKS as hub_tasks
    from cityos.mobility.setup import TASKS as mobility_tasks

    for part in (*community_tasks, *emergency_tasks, *hub_tasks, *mobility_tasks):
        part.register(bus)


def install_shipped(session: Session) -> None:
    """What ``cityos db upgrade`` installs beside the schema, every step idempotent: the case
    categories and processes, then what 一网通办, 智慧社区, 应急 and 数据中台 ship (kinds, items, processes,
    knowledge base, rules, templates)."""
    from cityos.cases import processes
    from cityos.cases import service as cases
    from cityos.community import setup as community_setup
    from cityos.emergency import setup as emergency_setup
    from cityos.hub import setup as hub_setup
    from cityos.mobility import setup as mobility_setup
    from cityos.services import setup as services_setup

    cases.install_categories(session)
    processes.install(session)
    services_setup.install(session)
    community_setup.install(session)
    emergency_setup.install(session)
    hub_setup.install(session)
    mobility_setup.install(session)
