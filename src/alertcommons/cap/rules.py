"""The CAP 1.2 rules, checked on the model: required elements, value sets, and everything the
XML schema cannot say (references, geometry, time order, language tags, identifier syntax).

Each finding names the element path (``alert/info[1]/area[2]/polygon[1]``) and says what is
wrong in words an integrator can act on.
"""

from __future__ import annotations

import base64
import binascii
import re
from datetime import datetime
from urllib.parse import urlsplit

from shapely import Polygon
from shapely.validation import explain_validity

from alertcommons.cap.fields import FIELDS, Struct
from alertcommons.cap.lenient import blank, empty_elements, padded_tokens
from alertcommons.cap.model import (
    CATEGORIES,
    CERTAINTIES,
    MSG_TYPES,
    RESPONSE_TYPES,
    SCOPES,
    SEVERITIES,
    STATUSES,
    URGENCIES,
    Alert,
    Area,
    Info,
    Resource,
    ValuePair,
    parse_references,
)
from alertcommons.cap.reader import Problem, child_path_of
from alertcommons.cap.values import (
    CapValueError,
    is_decimal,
    is_language_tag,
    parse_circle,
    parse_datetime,
    parse_polygon,
)

# CAP 1.2 §3.2.1: identifier and sender "MUST NOT include spaces, commas or restricted
# characters (< and &)".
_FORBIDDEN_IN_ID = re.compile(r"[\s,<&]")
_HEX = re.compile(r"^[0-9A-Fa-f]+$")


class Findings:
    def __init__(self) -> None:
        self.errors: list[Problem] = []
        self.warnings: list[Problem] = []

    def error(self, path: str, message: str) -> None:
        self.errors.append(Problem(path, message))

    def warn(self, path: str, message: str) -> None:
        self.warnings.append(Problem(path, message))


def check_alert(alert: Alert) -> Findings:
    findings = Findings()
    _required(alert, "alert", findings)
    _check_id("alert/identifier", alert.identifier, findings)
    _check_id("alert/sender", alert.sender, findings)
    sent = _datetime("alert/sent", alert.sent, findings)
    _enum("alert/status", alert.status, STATUSES, findings)
    _enum("alert/msgType", alert.msg_type, MSG_TYPES, findings)
    _enum("alert/scope", alert.scope, SCOPES, findings)
    if alert.scope == "Restricted" and not alert.restriction:
        findings.error("alert/restriction", "scope is Restricted, so <restriction> must say how")
    if alert.scope == "Private" and not alert.addresses:
        findings.error("alert/addresses", "scope is Private, so <addresses> must list recipients")
    _check_references(alert, findings)
    _empty_optional(alert, "alert", findings)
    for number, info in enumerate(alert.infos, start=1):
        _check_info(info, f"alert/info[{number}]", sent, findings)
    if not alert.infos and alert.msg_type in ("Alert", "Update") and alert.status == "Actual":
        findings.warn("alert", "an actual Alert or Update with no <info> gives receivers nothing")
    return findings


def _empty_optional(struct: Struct, path: str, findings: Findings) -> None:
    # Lenient (cap/lenient.py): CAP does not forbid these and real services send them.
    for name, number in empty_elements(struct):
        where = f"{path}/{name}" if number is None else f"{path}/{name}[{number}]"
        findings.warn(where, f"<{name}> is empty; read as absent")
    for name, number in padded_tokens(struct):
        where = f"{path}/{name}" if number is None else f"{path}/{name}[{number}]"
        findings.warn(where, f"<{name}> has white space around its value; read without it")


def _required(struct: Struct, path: str, findings: Findings) -> None:
    for spec in FIELDS[type(struct)]:
        if not spec.required:
            continue
        value = getattr(struct, spec.attr)
        name = spec.xml
        if spec.many and not value:
            findings.error(f"{path}/{name}", f"missing: at least one <{name}> is required")
        elif not spec.many and value is None:
            findings.error(f"{path}/{name}", f"missing required element <{name}>")
        elif not spec.many and spec.child is None and not value.strip():
            findings.error(f"{path}/{name}", f"<{name}> is empty; it must have a value")


def _check_id(path: str, value: str | None, findings: Findings) -> None:
    # Not stripped first: "x " stored beside "x" could never be updated or cancelled, since
    # references are split on white space. (XML layout around the text is stripped when the
    # hub reads a document: cap.model.strip_envelope.)
    if value and _FORBIDDEN_IN_ID.search(value):
        findings.error(
            path,
            f"'{value}' contains a space, comma, '<' or '&' (white space at either end"
            " included), which CAP forbids",
        )


def _datetime(path: str, value: str | None, findings: Findings) -> datetime | None:
    if value is None or not value.strip():
        return None
    try:
        return parse_datetime(value.strip())
    except CapValueError as exc:
        findings.error(path, str(exc))
        return None


def _enum(path: str, value: str | None, allowed: tuple[str, ...], findings: Findings) -> None:
    if value is None or not value.strip():
        return  # reported as missing or empty already
    if value not in allowed:
        findings.error(path, f"'{value}' is not one of: {', '.join(allowed)}")


def _check_references(alert: Alert, findings: Findings) -> None:
    path = "alert/references"
    if alert.references is None:
        if alert.msg_type in ("Update", "Cancel"):
            findings.error(
                path, f"a {alert.msg_type} must name the message(s) it replaces in <references>"
            )
        elif alert.msg_type in ("Ack", "Error"):
            findings.warn(path, f"an {alert.msg_type} should name the message(s) it answers")
        return
    if not alert.references.strip():
        if alert.msg_type in ("Update", "Cancel"):
            findings.error(
                path, "<references> is empty; give sender,identifier,sent for each message"
            )
        return  # otherwise an empty optional element: warned about as such
    if alert.references != alert.references.strip():
        # Kept an error (unlike other tokens): the hub strips XML layout before it checks
        # (model.strip_envelope), and a JSON string means what it says.
        findings.error(path, "<references> starts or ends with white space")
    try:
        triples = parse_references(alert.references)
    except ValueError as exc:
        findings.error(path, str(exc))
        return
    for triple in triples:
        if _FORBIDDEN_IN_ID.search(triple.sender + triple.identifier):
            findings.error(
                path, f"reference '{triple.sender},{triple.identifier},…' holds '<' or '&'"
            )
        try:
            parse_datetime(triple.sent)
        except CapValueError as exc:
            findings.error(path, f"in reference '{triple.sender},{triple.identifier},...': {exc}")
        if triple.sender == alert.sender and triple.identifier == alert.identifier:
            findings.error(path, "an alert cannot reference itself")


def _check_info(info: Info, path: str, sent: datetime | None, findings: Findings) -> None:
    _required(info, path, findings)
    if info.language is not None and not is_language_tag(info.language.strip()):
        findings.error(f"{path}/language", f"'{info.language}' is not a language tag (RFC 3066)")
    for number, category in enumerate(info.categories, start=1):
        _enum(f"{path}/category[{number}]", category, CATEGORIES, findings)
    for number, response in enumerate(info.response_types, start=1):
        _enum(f"{path}/responseType[{number}]", response, RESPONSE_TYPES, findings)
    _enum(f"{path}/urgency", info.urgency, URGENCIES, findings)
    _enum(f"{path}/severity", info.severity, SEVERITIES, findings)
    _enum(f"{path}/certainty", info.certainty, CERTAINTIES, findings)
    _pairs(info.event_codes, f"{path}/eventCode", findings)
    effective = _datetime(f"{path}/effective", info.effective, findings)
    _datetime(f"{path}/onset", info.onset, findings)
    expires = _datetime(f"{path}/expires", info.expires, findings)
    start, start_name = (effective, "effective") if effective else (sent, "sent")
    if expires is not None and start is not None and expires <= start:
        findings.error(
            f"{path}/expires", f"expires {info.expires} is not after {start_name} {start}"
        )
    _empty_optional(info, path, findings)
    if info.web is not None and not blank(info.web):
        _absolute_uri(f"{path}/web", info.web, findings)
    _pairs(info.parameters, f"{path}/parameter", findings)
    for number, resource in enumerate(info.resources, start=1):
        _check_resource(resource, f"{path}/resource[{number}]", findings)
    for number, area in enumerate(info.areas, start=1):
        _check_area(area, f"{path}/area[{number}]", findings)


def _pairs(pairs: list[ValuePair], base: str, findings: Findings) -> None:
    for number, pair in enumerate(pairs, start=1):
        path = f"{base}[{number}]"
        # An empty <value> is common in real feeds (and schema-valid); only a missing one or
        # an empty name leaves a receiver unable to read the pair.
        if pair.value_name is None or not pair.value_name.strip():
            findings.error(f"{path}/valueName", "missing or empty <valueName>")
        if pair.value is None:
            findings.error(f"{path}/value", "missing required element <value>")


def _absolute_uri(path: str, value: str, findings: Findings) -> None:
    parts = urlsplit(value.strip())
    if not parts.scheme:
        findings.error(path, f"'{value}' is not an absolute URI (CAP requires a full URI)")


def _check_resource(resource: Resource, path: str, findings: Findings) -> None:
    _required(resource, path, findings)
    _empty_optional(resource, path, findings)
    if resource.size is not None and not resource.size.strip().isdigit():
        findings.error(f"{path}/size", f"'{resource.size}' is not a whole number of bytes")
    if resource.uri is not None and resource.uri.strip():
        uri = resource.uri.strip()
        # A relative URI is allowed when the content travels in derefUri (CAP 1.2 §3.2.3).
        if resource.deref_uri is None and not urlsplit(uri).scheme:
            findings.error(f"{path}/uri", f"'{uri}' is not an absolute URI")
    if resource.deref_uri is not None:
        try:
            base64.b64decode("".join(resource.deref_uri.split()), validate=True)
        except (binascii.Error, ValueError):
            findings.error(f"{path}/derefUri", "is not valid base64 data")
    digest = resource.digest
    if digest is not None and not blank(digest) and not _HEX.match(digest.strip()):
        findings.error(f"{path}/digest", f"'{resource.digest}' is not a hexadecimal SHA-1 digest")


def _check_area(area: Area, path: str, findings: Findings) -> None:
    _required(area, path, findings)
    _empty_optional(area, path, findings)
    for number, text in enumerate(area.polygons, start=1):
        if not blank(text):
            _check_polygon(text, child_path_of(path, "polygon", number, True), findings)
    for number, text in enumerate(area.circles, start=1):
        if blank(text):
            continue
        try:
            parse_circle(text.strip())
        except CapValueError as exc:
            findings.error(child_path_of(path, "circle", number, True), str(exc))
    _pairs(area.geocodes, f"{path}/geocode", findings)
    for name, value in (("altitude", area.altitude), ("ceiling", area.ceiling)):
        if value is not None and not is_decimal(value):
            findings.error(f"{path}/{name}", f"'{value}' is not a number (feet above sea level)")
    if area.ceiling is not None and area.altitude is None:
        findings.error(f"{path}/ceiling", "<ceiling> is only allowed together with <altitude>")
    elif (
        area.ceiling is not None
        and area.altitude is not None
        and is_decimal(area.ceiling)
        and is_decimal(area.altitude)
        and float(area.ceiling) < float(area.altitude)
    ):
        findings.error(f"{path}/ceiling", "ceiling is below altitude")


def _check_polygon(text: str, path: str, findings: Findings) -> None:
    try:
        points = parse_polygon(text)
    except CapValueError as exc:
        findings.error(path, str(exc))
        return
    shape = Polygon([(point.lon, point.lat) for point in points])
    if not shape.is_valid:
        findings.error(path, _polygon_fault(explain_validity(shape)))


def _polygon_fault(explanation: str) -> str:
    match = re.search(r"\[([-\d.e]+) ([-\d.e]+)\]", explanation)
    where = f" near {float(match.group(2)):g},{float(match.group(1)):g}" if match else ""
    if explanation.startswith("Self-intersection") or "Ring Self-intersection" in explanation:
        return f"polygon crosses itself{where}"
    if "Too few points" in explanation:
        return "polygon has too few distinct points to enclose an area"
    return f"polygon is not a valid shape ({explanation.split('[')[0].strip().lower()}){where}"
