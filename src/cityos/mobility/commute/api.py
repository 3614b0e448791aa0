"""JSON routes of mobility.commute."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
