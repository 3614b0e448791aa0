"""办件: applications for service items and bundles, from draft to result credential."""
