"""Tests of community (智慧社区)."""
