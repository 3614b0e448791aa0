"""HTML pages of community.property; templates in web/templates/community/property/."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
