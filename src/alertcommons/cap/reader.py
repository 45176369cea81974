"""Bytes → CAP model: CAP 1.2, 1.1 and 1.0 alerts, alone or inside an EDXL-DE 1.0 envelope.

Older versions are brought up to 1.2 and every change made on the way is noted, so an
integrator can see what was rewritten. What cannot be placed in the model (an unknown element,
text where an element should be) is recorded as a problem with its path rather than dropped
in silence; validation reports it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from alertcommons.cap.fields import FIELDS, Field, Struct
from alertcommons.cap.model import CAP10_NS, CAP11_NS, CAP12_NS, Alert, ValuePair
from alertcommons.cap.xmlsafe import ReadLimits, UnsafeXMLError, parse_xml
from alertcommons.errors import AlertCommonsError

EDXLDE_NS = "urn:oasis:names:tc:emergency:EDXL:DE:1.0"
DSIG_NS = "http://www.w3.org/2000/09/xmldsig#"
ATOM_NS = "http://www.w3.org/2005/Atom"

_DEFAULT_LIMITS = ReadLimits()
_DSIG_PREFIX = f"{{{DSIG_NS}}}"
_FIELDS_BY_NAME = {cls: {f.xml: f for f in fields} for cls, fields in FIELDS.items()}
VERSIONS = {CAP12_NS: "1.2", CAP11_NS: "1.1", CAP10_NS: "1.0"}


class CapReadError(AlertCommonsError):
    """The bytes are not a CAP alert (or envelope of alerts) that can be read at all."""


@dataclass(frozen=True, slots=True)
class Problem:
    path: str
    message: str


@dataclass(slots=True)
class ParsedAlert:
    """One alert as read: the model, where it came from, and what reading noticed."""

    alert: Alert
    version: str
    element: etree._Element
    container: str | None = None  # path of the envelope slot, for alerts inside EDXL-DE
    notes: list[str] = field(default_factory=list)  # what upgrading to 1.2 changed
    problems: list[Problem] = field(default_factory=list)
    signed: bool = False


def read_alerts(data: bytes, limits: ReadLimits = _DEFAULT_LIMITS) -> list[ParsedAlert]:
    """Read every CAP alert in ``data``: a bare alert, or each alert of an EDXL-DE envelope."""
    try:
        root = parse_xml(data, limits)
    except UnsafeXMLError as exc:
        raise CapReadError(str(exc)) from None
    qname = etree.QName(root)
    if qname.localname == "alert" and qname.namespace in VERSIONS:
        return [read_alert_element(root)]
    if qname.localname == "EDXLDistribution" and qname.namespace == EDXLDE_NS:
        return _read_envelope(root)
    if qname.namespace == ATOM_NS:
        raise CapReadError("this is an Atom feed, not a CAP alert; read the CAP its entries link")
    if qname.localname == "alert":
        raise CapReadError(
            f"root element <alert> is in namespace {qname.namespace!r}, "
            f"not a CAP namespace (expected {CAP12_NS!r})"
        )
    raise CapReadError(
        f"root element is {{{qname.namespace}}}{qname.localname}, "
        "not a CAP <alert> or an EDXL-DE <EDXLDistribution>"
    )


def read_alert(data: bytes, limits: ReadLimits = _DEFAULT_LIMITS) -> ParsedAlert:
    """Read exactly one alert; an envelope holding several is an error here."""
    alerts = read_alerts(data, limits)
    if len(alerts) != 1:
        raise CapReadError(f"expected one CAP alert, found {len(alerts)}")
    return alerts[0]


def _read_envelope(root: etree._Element) -> list[ParsedAlert]:
    alerts: list[ParsedAlert] = []
    objects = root.findall(f"{{{EDXLDE_NS}}}contentObject")
    for number, content in enumerate(objects, start=1):
        holder = content.find(f"{{{EDXLDE_NS}}}xmlContent/{{{EDXLDE_NS}}}embeddedXMLContent")
        if holder is None:
            continue
        for element in holder:
            if not isinstance(element.tag, str):
                continue
            qname = etree.QName(element)
            if qname.localname == "alert" and qname.namespace in VERSIONS:
                parsed = read_alert_element(element)
                parsed.container = (
                    f"EDXLDistribution/contentObject[{number}]/xmlContent/embeddedXMLContent"
                )
                alerts.append(parsed)
    if not alerts:
        raise CapReadError("EDXL-DE envelope holds no CAP alert in any embeddedXMLContent")
    return alerts


def child_path_of(parent: str, name: str, number: int, repeatable: bool) -> str:
    """Element paths as errors show them: ``alert/info[2]/area[1]/polygon[3]``, ``alert/scope``."""
    return f"{parent}/{name}[{number}]" if repeatable else f"{parent}/{name}"


def read_alert_element(root: etree._Element) -> ParsedAlert:
    namespace = etree.QName(root).namespace or ""
    version = VERSIONS[namespace]
    reader = _StructReader(namespace, version)
    alert = reader.read(root, Alert, "alert")
    assert isinstance(alert, Alert)
    parsed = ParsedAlert(alert=alert, version=version, element=root, signed=reader.signed)
    parsed.problems.extend(reader.problems)
    if version != "1.2":
        parsed.notes.append(f"read as CAP {version} and brought up to CAP 1.2 (namespace changed)")
        parsed.notes.extend(reader.notes)
    return parsed


class _StructReader:
    """Walks one alert element, filling the model from the field tables."""

    def __init__(self, namespace: str, version: str) -> None:
        self.prefix = f"{{{namespace}}}"
        self.version = version
        self.problems: list[Problem] = []
        self.notes: list[str] = []
        self.signed = False

    def read(self, element: etree._Element, cls: type[Struct], path: str) -> Struct:
        by_name = _FIELDS_BY_NAME[cls]
        values: dict[str, Any] = {f.attr: [] for f in FIELDS[cls] if f.many}
        counts: dict[str, int] = {}
        prefix = self.prefix
        for child in element:
            tag = child.tag
            if not isinstance(tag, str):
                continue  # comments and processing instructions carry no CAP content
            ours = tag.startswith(prefix)
            name = tag[len(prefix) :] if ours else etree.QName(tag).localname
            counts[name] = counts.get(name, 0) + 1
            spec = by_name.get(name) if ours else None
            if spec is not None and spec.child is None and not len(child):
                # The common case, kept lean: a leaf element holding text.
                text = child.text or ""
                if text == "Very Likely" and self.version != "1.2":
                    text = self._upgrade_value(child, text, f"{path}/{name}")
                if spec.many:
                    values[spec.attr].append(text)
                    continue
                if spec.attr not in values:
                    values[spec.attr] = text
                    continue
            child_path = child_path_of(path, name, counts[name], spec is None or spec.many)
            if not ours:
                if tag.startswith(_DSIG_PREFIX) and cls is Alert:
                    self.signed = True
                else:
                    self.problems.append(Problem(child_path, f"unexpected element {tag}"))
                continue
            if spec is None:
                self._unknown(cls, name, child_path)
                continue
            value = self._value(child, spec, child_path)
            if spec.many:
                values[spec.attr].append(value)
            elif spec.attr in values:
                parent = etree.QName(element).localname
                message = f"<{name}> may appear only once in <{parent}>"
                self.problems.append(Problem(child_path, message))
            else:
                values[spec.attr] = value
        return cls(**values)

    def _value(self, child: etree._Element, spec: Field, path: str) -> Any:
        if spec.child is None:
            return self._text(child, path)
        if spec.child is ValuePair and self.version == "1.0" and len(child) == 0:
            return self._legacy_pair(child, spec, path)
        return self.read(child, spec.child, path)

    def _text(self, element: etree._Element, path: str) -> str:
        text = element.text or ""
        for child in element:
            if isinstance(child.tag, str):
                self.problems.append(
                    Problem(path, f"holds element <{etree.QName(child).localname}>; text expected")
                )
            text += child.tail or ""
        return self._upgrade_value(element, text, path)

    def _upgrade_value(self, element: etree._Element, text: str, path: str) -> str:
        if (
            text == "Very Likely"
            and self.version != "1.2"
            and etree.QName(element).localname == "certainty"
        ):
            self.notes.append(f"{path}: certainty 'Very Likely' (withdrawn in 1.2) became 'Likely'")
            return "Likely"
        return text

    def _legacy_pair(self, child: etree._Element, spec: Field, path: str) -> ValuePair:
        # CAP 1.0 wrote eventCode/parameter/geocode as "valueName=value" text.
        text = child.text or ""
        name, sep, value = text.partition("=")
        if not sep:
            self.problems.append(Problem(path, f"'{text}' is not of the CAP 1.0 form name=value"))
        self.notes.append(f"{path}: CAP 1.0 text '{text}' became valueName/value")
        return ValuePair(name.strip(), value.strip())

    def _unknown(self, cls: type[Struct], name: str, child_path: str) -> None:
        if cls is Alert and name == "password" and self.version == "1.0":
            self.notes.append(f"{child_path}: CAP 1.0 <password> dropped (removed in CAP 1.1)")
            return
        self.problems.append(Problem(child_path, f"<{name}> is not a CAP element here"))
