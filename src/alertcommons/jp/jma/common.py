"""What every JMA report family shares: the namespaces, the error, a report kind, and the
small readers of element text, times and identifier tokens."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from lxml import etree

from alertcommons.cap.xmlsafe import ReadLimits
from alertcommons.errors import AlertCommonsError

SENDER = "jma.go.jp"
CONTROL = "{http://xml.kishou.go.jp/jmaxml1/}"
HEAD = "{http://xml.kishou.go.jp/jmaxml1/informationBasis1/}"
JMA_LIMITS = ReadLimits(max_bytes=8 * 1024 * 1024, max_depth=64)
SEVERITY_ORDER = ("Extreme", "Severe", "Moderate", "Minor")


class JMAError(AlertCommonsError):
    """The file is not a JMA disaster-prevention XML report that can be read."""


@dataclass(frozen=True, slots=True)
class Kind:
    key: str  # short, for identifiers
    event: str | None  # None: use the report's own title
    category: str
    urgency: str
    severity: str
    certainty: str
    response: str | None = None
    graded: bool = False  # severity per item from the warning kinds' names
    seismic: bool = False  # areas and text from the earthquake body (seismic.py)


def is_element(node: object, local: str | tuple[str, ...]) -> bool:
    """Is ``node`` an element (not a comment) whose local name is ``local`` (or one of)?"""
    tag = getattr(node, "tag", None)
    if not isinstance(tag, str):
        return False
    names = (local,) if isinstance(local, str) else local
    return any(tag.endswith("}" + name) or tag == name for name in names)


def children(element: etree._Element | None, local: str) -> list[etree._Element]:
    if element is None:
        return []
    return [child for child in element if is_element(child, local)]


def child(element: etree._Element | None, local: str) -> etree._Element | None:
    found = children(element, local)
    return found[0] if found else None


def child_text(element: etree._Element, local: str) -> str:
    for each in element:
        if is_element(each, local):
            return (each.text or "").strip()
    return ""


def text_of(element: etree._Element | None, local: str) -> str:
    if element is None:
        return ""
    return child_text(element, local)


def moment(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise JMAError(f"'{text}' is not a date-time") from None


def token(text: str) -> str:
    return re.sub(r"[\s,<&]+", "_", text.strip())


def body_of(root: etree._Element) -> etree._Element | None:
    return next((c for c in root if is_element(c, "Body")), None)
