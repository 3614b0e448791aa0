"""community.dashboard."""
