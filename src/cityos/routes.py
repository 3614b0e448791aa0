"""The list of every module's routers, in one place (the app and tests use it)."""

from __future__ import annotations

from fastapi import FastAPI


def include_all(app: FastAPI) -> None:
    # Imported here so importing cityos.app stays cheap and cycle-free.
    from cityos.cases import api as cases_api
    from cityos.cases import open311_api
    from cityos.cases import pages as cases_pages
    from cityos.identity import api as identity_api
    from cityos.identity import pages as identity_pages
    from cityos.people import api as people_api
    from cityos.people import pages as people_pages
    from cityos.people.orgs import api as orgs_api
    from cityos.people.orgs import pages as orgs_pages
    from cityos.places import api as places_api
    from cityos.places import pages as places_pages
    from cityos.web import pages as web_pages
    from cityos.workflow import api as workflow_api
    from cityos.workflow import pages as workflow_pages

    for module in (identity_api, places_api, people_api, orgs_api, workflow_api, cases_api, open311_api):
        app.include_router(module.router)
    for module in (web_pages, identity_pages, places_pages, people_pages, orgs_pages, workflow_pages, cases_pages):
        app.include_router(module.router)
