"""API tests use the in-process hub fixture from tests/support/hub.py (see tests/conftest.py)."""
