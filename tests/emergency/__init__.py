"""Tests of emergency (应急)."""
