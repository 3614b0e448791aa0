"""Models of services.proactive."""

from __future__ import annotations
