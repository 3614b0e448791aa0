"""Roles and the permissions each grants. One table, used by every service through ``Actor``."""

from __future__ import annotations

from enum import StrEnum

from cityos.core.i18n import N_


class Role(StrEnum):
    RESIDENT = "resident"
    GRID_WORKER = "grid_worker"  # 网格员
    DEPARTMENT_STAFF = "department_staff"
    DISPATCHER = "dispatcher"  # 派遣员 / 12345 operator
    COMMANDER = "commander"  # 指挥长
    PROPERTY_MANAGER = "property_manager"  # 物业
    MERCHANT = "merchant"
    WINDOW_CLERK = "window_clerk"  # 窗口人员: files applications for residents (代办), runs kiosks
    COMMUNITY_STAFF = "community_staff"  # 社区工作者: notices, surveys, votes, grid tasks, the dashboard
    STREET_OBSERVER = "street_observer"  # 街道观察员: reads a street's communities, changes nothing
    VOLUNTEER = "volunteer"  # 志愿者 / 楼栋长: campaign tasks and supplies in their buildings
    DATA_OFFICER = "data_officer"  # 数据专员: a department's datasets, devices and NGSI-LD entities
    DEVELOPER = "developer"  # 开发者: builds third-party light apps on the open platform
    TRAFFIC_OPERATOR = "traffic_operator"  # 交通运行监测员: the TOCC duty officer (states, alerts, feeds)
    APP_CLIENT = "app_client"
    ADMIN = "admin"


ROLES: tuple[str, ...] = tuple(r.value for r in Role)

# Permission names are "<subject>:<verb>". pii:read unmasks identity numbers and phones.
# The descriptions are message ids: translate them where they are shown.
PERMISSIONS: dict[str, str] = {
    "self:read": N_("Read one's own records"),
    "region:read": N_("Browse the region tree"),
    "region:write": N_("Create and edit regions"),
    "region:import": N_("Import administrative divisions"),
    "person:read": N_("Read residents in scope (masked)"),
    "person:write": N_("Create and edit residents in scope"),
    "pii:read": N_("Read unmasked identity numbers and phones (audited)"),
    "household:read": N_("Read households and residences"),
    "household:write": N_("Edit households and residences"),
    "organisation:read": N_("Read organisations"),
    "organisation:write": N_("Create and edit organisations"),
    "department:read": N_("Read departments and the responsibility list"),
    "department:write": N_("Edit departments and the responsibility list"),
    "account:read": N_("Read accounts"),
    "account:write": N_("Create accounts and grant roles"),
    "client:write": N_("Register third-party apps (OAuth2 clients)"),
    "audit:read": N_("Search the audit log"),
    "sms:read": N_("Read the local SMS outbox"),
    "case:report": N_("Report a case (工单)"),
    "case:read": N_("Read the cases of one's area or department"),
    "process:read": N_("Read process definitions"),
    "process:write": N_("Edit process definitions and the working-day calendar"),
    "service:read": N_("Browse the service catalogue and guides (一网通办)"),
    "service:write": N_("Edit service items, bundles, local sites, credential kinds and the knowledge base"),
    "service:stats": N_("Read service statistics"),
    "application:submit": N_("Apply for a service for oneself"),
    "application:read": N_("Read the applications of one's area or department"),
    "application:approve": N_("Take approval steps on applications dispatched to one's department"),
    "application:proxy": N_("File an application on behalf of a resident (代办)"),
    "credential:issue": N_("Issue and revoke e-licences (电子证照) of one's department"),
    "consult:answer": N_("Answer consultations and promote answers to the knowledge base"),
    "pass:request": N_("Hold an entry pass for one's own room and invite visitors"),
    "pass:manage": N_("Set a community's entry rules, gates, blocked rooms; revoke passes"),
    "access:read": N_("Read entry passes and access logs of one's area"),
    "property:manage": N_("Run property operations: bills, parking, lockers, garbage sorting, facility devices"),
    "bill:pay": N_("See and pay one's own household's bills"),
    "commerce:order": N_("Order neighbourhood services and rate them"),
    "commerce:sell": N_("Offer neighbourhood services and manage one's shop's orders"),
    "notice:write": N_("Publish notices and surveys to a part of one's area"),
    "vote:manage": N_("Call owners' votes and read their results"),
    "vote:cast": N_("Answer surveys and vote in owners' votes for one's own rooms"),
    "help:offer": N_("Ask neighbours for help and volunteer"),
    "task:manage": N_("Plan grid tasks (e.g. monthly visits) and read visit logs"),
    "task:visit": N_("Carry out grid tasks and log visits"),
    "community:read": N_("Read the community dashboard (一屏观社区) of one's area"),
    "campaign:manage": N_("Create, publish and close emergency campaigns and their forms and tasks"),
    "campaign:read": N_("Read campaign roll-ups, lists of the unreached and daily reports of one's area"),
    "campaign:task": N_("Carry out campaign tasks (door-to-door checks, test results) in one's area"),
    "campaign:report": N_("Send one's own (or one's household's) daily campaign report"),
    "supplies:distribute": N_("Record supplies handed to households"),
    "broadcast:send": N_("Send broadcasts to a part of the address book"),
    "hub:read": N_("Read NGSI-LD entities, their history and the types and attributes of the data hub"),
    "hub:write": N_("Create, update and delete NGSI-LD entities"),
    "hub:subscribe": N_("Manage NGSI-LD subscriptions and see their delivery status"),
    "device:manage": N_("Register IoT devices in one's area, issue device keys and set payload mappings"),
    "dataset:read": N_("Browse the data catalogue and read open datasets"),
    "dataset:publish": N_("Publish datasets of one's department"),
    "dataset:request": N_("Request access to a dataset for one's department and read through its grants"),
    "dataset:approve": N_("Approve or refuse requests for one's department's datasets; revoke grants"),
    "app:develop": N_("Register and manage one's own light apps, their keys and webhooks"),
    "app:review": N_("Review and approve light apps, set their scopes and rate limits"),
    "traffic:read": N_(
        "Read the traffic operations centre: segment states, vital signs, alerts, forecasts, hubs, commutes"
    ),
    "traffic:manage": N_("Manage traffic alert rules, corridors, transport hubs, transit feeds and alerts"),
    "traffic:ingest": N_("Send traffic records (loops, probes, bus positions, navigation speeds, video counts)"),
}

_READ_PLACES = {"region:read"}
_READ_PEOPLE = {"person:read", "household:read", "organisation:read"}
_CASES = {"case:read", "case:report"}
_APPLY = {"service:read", "application:submit"}
_NEIGHBOUR = {"pass:request", "bill:pay", "commerce:order", "vote:cast", "help:offer", "campaign:report"}
_CAMPAIGN_STAFF = {"campaign:manage", "campaign:read", "broadcast:send", "supplies:distribute"}
_DATA_USER = {"dataset:read", "dataset:request"}

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    Role.RESIDENT: frozenset({"self:read", "region:read", "case:report"} | _APPLY | _NEIGHBOUR),
    Role.GRID_WORKER: frozenset(
        _READ_PLACES
        | _READ_PEOPLE
        | _CASES
        | {"person:write", "household:write", "service:read", "task:visit", "community:read"}
        | {"campaign:read", "campaign:task", "supplies:distribute"}
    ),
    Role.DEPARTMENT_STAFF: frozenset(
        _READ_PLACES
        | {"department:read", "organisation:read", "case:read", "service:read", "service:stats"}
        | {"application:read", "application:approve", "credential:issue", "consult:answer"}
        | _DATA_USER
        | {"hub:read", "traffic:read"}
    ),
    Role.DISPATCHER: frozenset(
        _READ_PLACES | _CASES | {"department:read", "organisation:read", "person:read", "service:read"}
    ),
    Role.COMMANDER: frozenset(
        _READ_PLACES
        | _READ_PEOPLE
        | _CASES
        | {"department:read", "audit:read", "process:read", "service:read", "service:stats", "application:read"}
        | {"access:read", "community:read"}
        | _CAMPAIGN_STAFF
        | _DATA_USER
        | {"hub:read", "traffic:read"}
    ),
    Role.PROPERTY_MANAGER: frozenset(
        _READ_PLACES
        | _READ_PEOPLE
        | _CASES
        | {"household:write", "service:read", "pass:manage", "access:read", "property:manage", "vote:manage"}
    ),
    Role.MERCHANT: frozenset(_READ_PLACES | {"self:read", "case:report", "commerce:sell"} | _APPLY),
    Role.WINDOW_CLERK: frozenset(
        _READ_PLACES | {"person:read", "service:read", "application:read", "application:proxy", "consult:answer"}
    ),
    Role.COMMUNITY_STAFF: frozenset(
        _READ_PLACES
        | _READ_PEOPLE
        | _CASES
        | {"service:read", "notice:write", "vote:manage", "task:manage", "community:read", "access:read"}
        | _CAMPAIGN_STAFF
    ),
    Role.STREET_OBSERVER: frozenset(_READ_PLACES | {"access:read", "community:read", "case:read", "campaign:read"}),
    Role.VOLUNTEER: frozenset(_READ_PLACES | {"self:read", "campaign:task", "supplies:distribute", "campaign:report"}),
    Role.DATA_OFFICER: frozenset(
        _READ_PLACES
        | {"department:read", "organisation:read"}
        | _DATA_USER
        | {"dataset:publish", "dataset:approve", "hub:read", "hub:write", "hub:subscribe", "device:manage"}
    ),
    Role.DEVELOPER: frozenset(_READ_PLACES | {"self:read", "app:develop", "dataset:read"}),
    Role.TRAFFIC_OPERATOR: frozenset(
        _READ_PLACES | _CASES | {"department:read", "traffic:read", "traffic:manage", "traffic:ingest", "hub:read"}
    ),
    Role.APP_CLIENT: frozenset(_READ_PLACES),
    Role.ADMIN: frozenset(PERMISSIONS),
}

# What a third-party app may be granted (OAuth2 client scopes); never personal data in clear.
CLIENT_GRANTABLE: frozenset[str] = frozenset(
    {"region:read", "organisation:read", "department:read", "person:read", "case:report"}
    | {"hub:read", "hub:write", "hub:subscribe", "dataset:read"}
    | {"traffic:read", "traffic:ingest"}
)


def permissions_for(roles: set[str] | frozenset[str]) -> frozenset[str]:
    granted: set[str] = set()
    for role in roles:
        granted |= ROLE_PERMISSIONS.get(role, frozenset())
    return frozenset(granted)
