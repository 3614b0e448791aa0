"""community.property."""
