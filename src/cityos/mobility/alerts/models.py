"""Models of mobility.alerts."""

from __future__ import annotations
