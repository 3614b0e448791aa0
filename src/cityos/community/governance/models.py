"""Models of community.governance."""

from __future__ import annotations
