"""Models of mobility.hubs."""

from __future__ import annotations
