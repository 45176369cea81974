"""``python -m alertcommons`` runs the command line."""

from __future__ import annotations

from alertcommons.cli import main

main()
