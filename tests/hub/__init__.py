"""Tests of the data hub (数据中台)."""
