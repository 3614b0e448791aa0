"""Road network: the segment contract (schema), models, SUMO/GeoJSON import, spatial index."""
