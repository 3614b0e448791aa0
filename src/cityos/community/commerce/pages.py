"""HTML pages of community.commerce; templates in web/templates/community/commerce/."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
