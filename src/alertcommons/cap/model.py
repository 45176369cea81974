"""The CAP 1.2 data model: every element of the standard, with its cardinality.

Values are kept as the text the message carried, not coerced: a model read from a broken
message must still hold what it said so that validation can name the fault, and a model read
from a good one must write back exactly. ``None`` means "element absent"; ``""`` means
"element present but empty" — CAP treats the two differently (an empty ``references`` is an
error, an absent one may not be).

Typed readings of the text (date-times, coordinates) live in :mod:`alertcommons.cap.values`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

CAP12_NS = "urn:oasis:names:tc:emergency:cap:1.2"
CAP11_NS = "urn:oasis:names:tc:emergency:cap:1.1"
CAP10_NS = "http://www.incident.com/cap/1.0"

STATUSES = ("Actual", "Exercise", "System", "Test", "Draft")
MSG_TYPES = ("Alert", "Update", "Cancel", "Ack", "Error")
SCOPES = ("Public", "Restricted", "Private")
CATEGORIES = (
    "Geo",
    "Met",
    "Safety",
    "Security",
    "Rescue",
    "Fire",
    "Health",
    "Env",
    "Transport",
    "Infra",
    "CBRNE",
    "Other",
)
RESPONSE_TYPES = (
    "Shelter",
    "Evacuate",
    "Prepare",
    "Execute",
    "Avoid",
    "Monitor",
    "Assess",
    "AllClear",
    "None",
)
URGENCIES = ("Immediate", "Expected", "Future", "Past", "Unknown")
SEVERITIES = ("Extreme", "Severe", "Moderate", "Minor", "Unknown")
CERTAINTIES = ("Observed", "Likely", "Possible", "Unlikely", "Unknown")


@dataclass(slots=True)
class ValuePair:
    """A ``valueName``/``value`` pair: eventCode, parameter and geocode share this shape."""

    value_name: str | None = None
    value: str | None = None


@dataclass(slots=True)
class Resource:
    resource_desc: str | None = None
    mime_type: str | None = None
    size: str | None = None
    uri: str | None = None
    deref_uri: str | None = None
    digest: str | None = None


@dataclass(slots=True)
class Area:
    area_desc: str | None = None
    polygons: list[str] = field(default_factory=list)
    circles: list[str] = field(default_factory=list)
    geocodes: list[ValuePair] = field(default_factory=list)
    altitude: str | None = None
    ceiling: str | None = None


@dataclass(slots=True)
class Info:
    language: str | None = None
    categories: list[str] = field(default_factory=list)
    event: str | None = None
    response_types: list[str] = field(default_factory=list)
    urgency: str | None = None
    severity: str | None = None
    certainty: str | None = None
    audience: str | None = None
    event_codes: list[ValuePair] = field(default_factory=list)
    effective: str | None = None
    onset: str | None = None
    expires: str | None = None
    sender_name: str | None = None
    headline: str | None = None
    description: str | None = None
    instruction: str | None = None
    web: str | None = None
    contact: str | None = None
    parameters: list[ValuePair] = field(default_factory=list)
    resources: list[Resource] = field(default_factory=list)
    areas: list[Area] = field(default_factory=list)

    @property
    def effective_language(self) -> str:
        """CAP's default when ``language`` is absent is ``en-US``."""
        return self.language if self.language else "en-US"


@dataclass(slots=True)
class Alert:
    identifier: str | None = None
    sender: str | None = None
    sent: str | None = None
    status: str | None = None
    msg_type: str | None = None
    source: str | None = None
    scope: str | None = None
    restriction: str | None = None
    addresses: str | None = None
    codes: list[str] = field(default_factory=list)
    note: str | None = None
    references: str | None = None
    incidents: str | None = None
    infos: list[Info] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Reference:
    """One ``sender,identifier,sent`` triple from ``references``."""

    sender: str
    identifier: str
    sent: str


def parse_references(text: str) -> list[Reference]:
    """Split ``references`` into triples; raise ``ValueError`` naming the bad entry."""
    triples: list[Reference] = []
    for entry in text.split():
        parts = entry.split(",")
        if len(parts) != 3 or not all(parts):
            raise ValueError(f"'{entry}' is not of the form sender,identifier,sent")
        triples.append(Reference(parts[0], parts[1], parts[2]))
    return triples


def strip_envelope(alert: Alert) -> Alert:
    """``alert`` with the white space that XML layout puts around ``identifier``, ``sender``
    and ``sent`` removed, and ``references`` as single-space-separated triples.

    For XML input only: a pretty-printed ``<identifier>`` holds its indentation as text, which
    no one means as part of the identifier. Stored and looked up stripped, ``x`` written
    either way is one alert, and a Cancel naming it finds it. (A JSON string means what it
    says: white space there is refused by validation.)"""
    for name in ("identifier", "sender", "sent"):
        value = getattr(alert, name)
        if value is not None:
            setattr(alert, name, value.strip())
    if alert.references is not None and alert.references.strip():
        alert.references = " ".join(alert.references.split())
    return alert
