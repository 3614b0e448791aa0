"""Placeholder: see the mobility brief (filled by its owner)."""
