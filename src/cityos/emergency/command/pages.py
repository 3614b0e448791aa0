"""HTML pages of emergency.command; templates in web/templates/emergency/command/."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
