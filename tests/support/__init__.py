"""Shared helpers for the test suite (fakes of external services)."""
