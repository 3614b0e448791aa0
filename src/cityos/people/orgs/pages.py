"""HTML pages of organisations, departments and the responsibility list."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
