"""Alert Commons: publish disaster information once, reach every receiver for the area."""

from __future__ import annotations

__version__ = "0.1.0"
