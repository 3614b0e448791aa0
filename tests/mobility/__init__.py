"""Tests of the traffic operations centre (智慧出行)."""
