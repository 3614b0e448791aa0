"""Models of community.access."""

from __future__ import annotations
