"""HTML pages of emergency.campaigns; templates in web/templates/emergency/campaigns/."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
