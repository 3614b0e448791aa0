"""emergency.command."""
