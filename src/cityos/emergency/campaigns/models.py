"""Models of emergency.campaigns."""

from __future__ import annotations
