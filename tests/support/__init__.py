"""Helpers shared by the test modules (importable as `support.*`: tests/ is on the test path)."""
