"""Models of emergency.addressbook."""

from __future__ import annotations
