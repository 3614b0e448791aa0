"""JSON routes of emergency.campaigns."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1", tags=["emergency"])
