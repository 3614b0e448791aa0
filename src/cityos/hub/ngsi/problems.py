"""Placeholder: see the hub brief (filled by its owner)."""
