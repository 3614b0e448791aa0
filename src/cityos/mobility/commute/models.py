"""Models of mobility.commute."""

from __future__ import annotations
