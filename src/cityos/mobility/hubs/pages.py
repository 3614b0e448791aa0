"""Pages of mobility.hubs."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
