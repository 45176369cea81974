"""JMA disaster-prevention XML (気象庁防災情報XML) → CAP 1.2, in the Japan profile.

One module per concern: :mod:`.report` reads a report and builds the alert (kinds, status,
identifiers, event chains), :mod:`.warnings` grades warnings per item, :mod:`.seismic` reads
the earthquake reports (places by intensity, the quake, the comments), :mod:`.areas` turns
JMA area codes into geocodes, and :mod:`.english` holds the phrase tables of the English
``info``. ``from alertcommons.jp import jma`` and the names below stay the public interface.
"""

from __future__ import annotations

from alertcommons.jp.jma.areas import CODE_TYPES
from alertcommons.jp.jma.common import CONTROL, HEAD, JMA_LIMITS, SENDER, JMAError, Kind
from alertcommons.jp.jma.report import (
    ACTIVATING,
    KINDS,
    MEGAQUAKE,
    MSG_TYPE,
    STATUS,
    Converted,
    convert,
    event_base,
    follow,
)
from alertcommons.jp.jma.warnings import WARNING_KINDS

__all__ = [
    "ACTIVATING",
    "CODE_TYPES",
    "CONTROL",
    "HEAD",
    "JMA_LIMITS",
    "KINDS",
    "MEGAQUAKE",
    "MSG_TYPE",
    "SENDER",
    "STATUS",
    "WARNING_KINDS",
    "Converted",
    "JMAError",
    "Kind",
    "convert",
    "event_base",
    "follow",
]
