"""The root of every error Alert Commons raises on purpose."""

from __future__ import annotations


class AlertCommonsError(Exception):
    """Base class: anything raised deliberately by this package derives from it."""
