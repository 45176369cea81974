"""Command-line groups, one module each."""
