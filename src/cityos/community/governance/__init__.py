"""community.governance."""
