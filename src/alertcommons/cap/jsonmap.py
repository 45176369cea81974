"""CAP model ↔ JSON: a faithful mapping of CAP 1.2, not a second model.

Keys are CAP's own element names (``msgType``, ``areaDesc``, ``valueName``). An element that
may repeat is always a list (``info``, ``category``, ``polygon``, ``geocode``…) and is left out
when there are none; an element absent from the alert is absent from the JSON; every value is
the element's text as a string. See ``docs/cap-json.md``.
"""

from __future__ import annotations

import re
from typing import Any

from alertcommons.cap.fields import FIELDS, Struct
from alertcommons.cap.model import Alert
from alertcommons.errors import AlertCommonsError

# Characters XML 1.0 cannot represent at all (C0 controls other than tab, LF, CR; surrogates).
NOT_XML = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]"
)  # XML 1.0 cannot carry


class CapJSONError(AlertCommonsError):
    """JSON that does not map onto CAP; ``path`` names the offending member."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message


def to_json(alert: Alert) -> dict[str, Any]:
    return _dump(alert)


# A top-level member that is not a CAP element: the signed CAP XML the JSON was made from,
# as text, so that converting a signed alert to JSON keeps its signature (docs/cap-json.md).
SIGNED_XML = "signedXml"


def from_json(document: object) -> Alert:
    """Build an alert from its JSON form; unknown keys and wrong types are refused by path.

    ``signedXml`` is not part of the alert and is left aside here; whoever needs the
    signature reads it (``alertcommons cap`` checks that it says what the members say)."""
    if isinstance(document, dict) and SIGNED_XML in document:
        if not isinstance(document[SIGNED_XML], str):
            raise CapJSONError(f"alert/{SIGNED_XML}", "expected the signed CAP XML as a string")
        document = {k: v for k, v in document.items() if k != SIGNED_XML}
    alert = _load(document, Alert, "alert")
    assert isinstance(alert, Alert)
    return alert


def _dump(struct: Struct) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for spec in FIELDS[type(struct)]:
        value = getattr(struct, spec.attr)
        if spec.many:
            if value:
                out[spec.xml] = [item if spec.child is None else _dump(item) for item in value]
        elif value is not None:
            out[spec.xml] = value if spec.child is None else _dump(value)
    return out


def _load(document: object, cls: type[Struct], path: str) -> Struct:
    if not isinstance(document, dict):
        raise CapJSONError(path, f"expected an object, got {_kind(document)}")
    fields = {spec.xml: spec for spec in FIELDS[cls]}
    values: dict[str, Any] = {}
    for key, value in document.items():
        spec = fields.get(key)
        if spec is None:
            known = ", ".join(fields)
            raise CapJSONError(f"{path}/{key}", f"not a CAP element here (known: {known})")
        member = f"{path}/{key}"
        if value is None and not spec.many:
            continue  # null means absent, as integrators commonly write it
        if spec.many:
            if not isinstance(value, list):
                raise CapJSONError(member, f"expected a list, got {_kind(value)}")
            values[spec.attr] = [
                _scalar_or_struct(item, spec.child, f"{member}[{index}]")
                for index, item in enumerate(value, start=1)
            ]
        else:
            values[spec.attr] = _scalar_or_struct(value, spec.child, member)
    return cls(**values)


def _scalar_or_struct(value: object, child: type[Struct] | None, path: str) -> Any:
    if child is not None:
        return _load(value, child, path)
    if not isinstance(value, str):
        raise CapJSONError(path, f"expected a string, got {_kind(value)}")
    bad = NOT_XML.search(value)
    if bad is not None:
        code = f"U+{ord(bad.group()):04X}"
        raise CapJSONError(path, f"holds character {code}, which XML cannot carry")
    return value


def _kind(value: object) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}
    if value is None:
        return "null"
    if isinstance(value, int | float) and not isinstance(value, bool):
        return "a number"
    return names.get(type(value), type(value).__name__)
