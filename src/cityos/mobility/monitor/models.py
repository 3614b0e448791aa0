"""Models of mobility.monitor."""

from __future__ import annotations
