"""Measurements that decide defaults; run by hand, not by the test suite."""
