"""Models of mobility.transit."""

from __future__ import annotations
