"""Models of emergency.command."""

from __future__ import annotations
