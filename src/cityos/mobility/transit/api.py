"""JSON routes of mobility.transit."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
