"""community.commerce."""
