"""HTML pages of community.dashboard; templates in web/templates/community/dashboard/."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
