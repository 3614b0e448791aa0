"""Models of services.consult."""

from __future__ import annotations
