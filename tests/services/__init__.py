"""Tests of services (一网通办)."""
