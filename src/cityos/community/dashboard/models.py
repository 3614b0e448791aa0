"""Models of community.dashboard."""

from __future__ import annotations
