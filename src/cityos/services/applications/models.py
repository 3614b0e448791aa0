"""Models of services.applications."""

from __future__ import annotations
