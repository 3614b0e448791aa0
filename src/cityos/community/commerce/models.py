"""Models of community.commerce."""

from __future__ import annotations
