"""Helpers shared by the tests: sample data, certificates, file-access watching."""
