"""Liberal in what real services send, strict in what the hub writes.

CAP 1.2 (standard and schema) does not forbid some things that real national services send
and a strict reading would refuse; validation reports them as *warnings* (``alertcommons cap
validate --strict`` makes them errors), and :func:`canonicalize` rewrites them into the one
form the hub stores and signs. The list is kept in docs/cap.md ("Leniencies").

* An **empty optional element** whose schema type allows empty text (``xs:string`` or
  ``xs:anyURI``): ``<web/>``, ``<polygon></polygon>``, ``<references/>`` on an Alert… It says
  nothing, so it is read as absent. (An empty element whose type forbids it — a date, a
  number, a value from a list — is still a schema error.)
* **White space around a token** (``web``, ``uri``, ``digest``, ``polygon``, ``circle``):
  XML layout, not part of the value.

Not lenient, on purpose: white space around ``identifier``, ``sender`` or ``references``
(CAP forbids spaces in the first two; the hub strips XML layout around all three before it
checks, see ``model.strip_envelope``, and a JSON string means what it says), and
surrounding white space in values from a list (``<status> Actual </status>``), which the
CAP 1.2 schema refuses.
"""

from __future__ import annotations

from alertcommons.cap.model import Alert, Area, Info, Resource

# Optional elements whose schema type is xs:string or xs:anyURI (empty text is schema-valid).
EMPTY_ALLOWED: dict[type[object], tuple[str, ...]] = {
    Alert: ("source", "restriction", "addresses", "codes", "note", "references", "incidents"),
    Info: ("audience", "sender_name", "headline", "description", "instruction", "web", "contact"),
    Resource: ("uri", "deref_uri", "digest"),
    Area: ("polygons", "circles"),
}
# Token-like values, whose surrounding white space is layout.
TOKENS: dict[type[object], tuple[str, ...]] = {
    Info: ("web",),
    Resource: ("uri", "digest"),
    Area: ("polygons", "circles"),
}
XML_NAME = {
    "codes": "code",
    "sender_name": "senderName",
    "deref_uri": "derefUri",
    "polygons": "polygon",
    "circles": "circle",
}


def blank(value: str | None) -> bool:
    return value is not None and not value.strip()


def empty_elements(struct: object) -> list[tuple[str, int | None]]:
    """(XML name, 1-based position or None) of each empty optional element of ``struct``."""
    found: list[tuple[str, int | None]] = []
    for attr in EMPTY_ALLOWED.get(type(struct), ()):
        value = getattr(struct, attr)
        name = XML_NAME.get(attr, attr)
        if isinstance(value, list):
            found.extend((name, n) for n, item in enumerate(value, 1) if blank(item))
        elif blank(value):
            found.append((name, None))
    return found


def padded_tokens(struct: object) -> list[tuple[str, int | None]]:
    """(XML name, 1-based position or None) of each token of ``struct`` with white space
    around its value (an empty one is reported by :func:`empty_elements` instead)."""
    found: list[tuple[str, int | None]] = []
    for attr in TOKENS.get(type(struct), ()):
        value = getattr(struct, attr)
        name = XML_NAME.get(attr, attr)
        items = value if isinstance(value, list) else [value]
        for n, item in enumerate(items, 1):
            if item is not None and not blank(item) and item != item.strip():
                found.append((name, n if isinstance(value, list) else None))
    return found


def canonicalize(alert: Alert) -> Alert:
    """``alert`` in the form the hub writes: empty optional elements dropped and white space
    around tokens removed (in place; returned for chaining)."""
    structs: list[object] = [alert]
    for info in alert.infos:
        structs.append(info)
        structs.extend(info.resources)
        structs.extend(info.areas)
    for struct in structs:
        for attr in TOKENS.get(type(struct), ()):
            value = getattr(struct, attr)
            if isinstance(value, list):
                setattr(struct, attr, [item.strip() for item in value])
            elif value is not None:
                setattr(struct, attr, value.strip())
        for attr in EMPTY_ALLOWED.get(type(struct), ()):
            value = getattr(struct, attr)
            if isinstance(value, list):
                setattr(struct, attr, [item for item in value if not blank(item)])
            elif blank(value):
                setattr(struct, attr, None)
    return alert
