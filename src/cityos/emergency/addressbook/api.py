"""JSON routes of emergency.addressbook."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1", tags=["emergency"])
