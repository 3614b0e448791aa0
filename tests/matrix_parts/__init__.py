"""Per-module parts of the permission matrix; each module owns its file here."""

from __future__ import annotations

from types import ModuleType

from tests.matrix_parts import applications, catalogue, consult, licences, proactive

PARTS: tuple[ModuleType, ...] = (catalogue, licences, applications, consult, proactive)
