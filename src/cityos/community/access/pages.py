"""HTML pages of community.access; templates in web/templates/community/access/."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
