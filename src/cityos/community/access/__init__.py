"""community.access."""
