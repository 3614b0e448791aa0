"""Devices (物): gates, cameras, parking spots, lockers, bins, meters, facility equipment, sensors —
things placed in the region tree that report a state. Shared by community, hub and mobility."""
