"""Models of community.property."""

from __future__ import annotations
