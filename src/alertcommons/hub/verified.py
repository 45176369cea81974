"""What a page may show under "verified": the text of the signed XML that was checked.

The store keeps two copies of every alert: the signed CAP XML and a JSON mapping of it, made
once for fast listing. Only the XML carries the signature, so anything that tells a reader
"this has not been altered" must show what it read *from that XML*, never the JSON copy: a
changed JSON row would otherwise appear under a verdict that was reached on other bytes.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography import x509

from alertcommons.auth.jurisdiction import area_codes
from alertcommons.cap.jsonmap import to_json
from alertcommons.cap.reader import read_alert
from alertcommons.cap.signature import verify
from alertcommons.cap.values import CapValueError, parse_datetime
from alertcommons.errors import AlertCommonsError


@dataclass(frozen=True, slots=True)
class SignedView:
    """An alert as its signed XML says it, with the verdict on that XML.

    ``document`` is None when the stored XML cannot be read as CAP at all; a page then has
    nothing it may show as verified."""

    document: dict[str, Any] | None
    verified: bool
    signer: str | None
    areas: list[str]


def read_signed(
    cap_xml: bytes, trusted: list[x509.Certificate], *, at: datetime | None = None
) -> SignedView:
    """Parse the stored signed XML (hardened reader), verify it, and map *it* to JSON.

    Verified means the signature holds and its certificate is one the hub trusts (chain and
    validity checked), the same rule as ``alertcommons cap verify --cert``."""
    try:
        parsed = read_alert(cap_xml)
    except AlertCommonsError:  # CapReadError among them: not CAP, or not XML at all
        return SignedView(None, False, None, [])
    check = verify(parsed.element, trusted, at=at)
    codes: list[str] = []
    for info in parsed.alert.infos:
        for area in info.areas:
            # A code this hub cannot place is only left off the list of places.
            with contextlib.suppress(AlertCommonsError, ValueError):
                codes.extend(area_codes(area))
    return SignedView(
        to_json(parsed.alert),
        check.signature == "valid" and check.certificate == "trusted",
        check.signer,
        list(dict.fromkeys(codes)),
    )


def facts_from(document: dict[str, Any], info: dict[str, Any]) -> dict[str, Any]:
    """The alert-level facts a page shows, taken from the signed document and the info
    block it shows, so none of them comes from the separately stored columns."""
    return {
        "sender": document.get("sender"),
        "sent": _moment(document.get("sent")),
        "status": document.get("status"),
        "msgType": document.get("msgType"),
        "severity": info.get("severity"),
        "expires": _moment(info.get("expires")),
    }


def _moment(text: Any) -> str | None:
    """A CAP date-time as ISO text for the page, or None when it cannot be read (only a
    tampered XML carries such a value: the hub refuses it on the way in)."""
    try:
        return parse_datetime(str(text).strip()).isoformat() if text else None
    except CapValueError:
        return None
