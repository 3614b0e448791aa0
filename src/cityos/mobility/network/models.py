"""Placeholder: road network models (filled by the network part)."""
