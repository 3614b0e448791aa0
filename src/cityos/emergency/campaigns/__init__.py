"""emergency.campaigns."""
