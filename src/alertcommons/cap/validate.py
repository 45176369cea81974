"""Validation: the OASIS CAP 1.2 XML schema and the rules it cannot express, as one report."""

from __future__ import annotations

import copy
import re
import threading
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

from lxml import etree

from alertcommons.cap.model import CAP11_NS, CAP12_NS, Alert
from alertcommons.cap.reader import ParsedAlert, Problem
from alertcommons.cap.rules import check_alert
from alertcommons.cap.writer import to_element, to_xml
from alertcommons.cap.xmlsafe import DEFAULT_MAX_BYTES

_REPEATABLE = frozenset(
    {
        "info",
        "code",
        "category",
        "responseType",
        "eventCode",
        "parameter",
        "resource",
        "area",
        "polygon",
        "circle",
        "geocode",
    }
)
_NS_PREFIX = re.compile(r"\{(?:urn|https?):[^}]*\}")
_STEP = re.compile(r"^([\w.:*-]+)(?:\[(\d+)\])?$")
_EXPECTED = re.compile(r"Expected is (?:one of )?\( ([^)]*) \)")


@dataclass(slots=True)
class Report:
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not self.errors


# One validator per thread, each built under a lock: libxml2's schema parser is not safe to
# run in two threads at once (an intermittent "xmlSchemaPValAttrNodeValue" internal error when
# the first publishes arrived together), and a validator keeps its error log on itself.
_schemas = threading.local()
_schema_building = threading.Lock()


@cache
def _cap12_source() -> bytes:
    return resources.files("alertcommons.cap").joinpath("schema/cap12.xsd").read_bytes()


def cap12_schema() -> etree.XMLSchema:
    schema: etree.XMLSchema | None = getattr(_schemas, "cap12", None)
    if schema is None:
        with _schema_building:
            schema = etree.XMLSchema(etree.fromstring(_cap12_source()))
        _schemas.cap12 = schema
    return schema


def validate(
    subject: ParsedAlert | Alert, *, max_bytes: int = DEFAULT_MAX_BYTES, strict: bool = False
) -> Report:
    """Check an alert as read (schema on what was received) or as built (schema on our XML).

    ``strict``: warnings — among them the leniencies of ``cap/lenient.py`` — are errors."""
    if isinstance(subject, ParsedAlert):
        alert = subject.alert
        element = _schema_subject(subject)
        report = Report(errors=list(subject.problems))
    else:
        alert = subject
        serialized = to_xml(alert)
        if len(serialized) > max_bytes:
            return Report(
                errors=[Problem("alert", f"alert is {len(serialized):,} bytes, over {max_bytes:,}")]
            )
        element = etree.fromstring(serialized)
        report = Report()
    findings = check_alert(alert)
    report.errors.extend(findings.errors)
    report.warnings.extend(findings.warnings)
    report.errors.extend(_schema_errors(element, report.errors))
    if strict:
        report.errors.extend(report.warnings)
        report.warnings = []
    return report


def _schema_subject(parsed: ParsedAlert) -> etree._Element:
    if parsed.version == "1.2":
        return parsed.element
    if parsed.version == "1.1":
        # 1.1 has 1.2's structure; only the namespace and a few values differ, and values are
        # checked by the rules on the upgraded model.
        element = copy.deepcopy(parsed.element)
        for node in element.iter():
            if isinstance(node.tag, str) and node.tag.startswith(f"{{{CAP11_NS}}}"):
                node.tag = f"{{{CAP12_NS}}}" + node.tag.split("}", 1)[1]
                if node.tag == f"{{{CAP12_NS}}}certainty" and node.text == "Very Likely":
                    node.text = "Likely"  # upgraded in the model, with a note
        etree.cleanup_namespaces(element)
        return element
    return to_element(parsed.alert)  # 1.0's structure differs: check the upgraded form


def _schema_errors(element: etree._Element, known: list[Problem]) -> list[Problem]:
    schema = cap12_schema()
    if element.getparent() is not None or element.getprevious() is not None:
        element = copy.deepcopy(element)  # inside an envelope: check the alert on its own
    if schema.validate(element):
        return []
    known_paths = {problem.path for problem in known}
    missing = {problem.path for problem in known if problem.message.startswith("missing")}
    found: list[Problem] = []
    for entry in schema.error_log:  # type: ignore[attr-defined]  # iterable at run time
        path = _our_path(element, entry.path)
        message = _plain(entry.message)
        if path in known_paths or _explained_by_missing(path, entry.message, missing):
            continue
        found.append(Problem(path, message))
    return found


def _our_path(root: etree._Element, xpath: str | None) -> str:
    node = _follow(root, xpath) if xpath else None
    if node is None:
        return "alert"
    steps: list[str] = []
    current: etree._Element | None = node
    while current is not None:
        name = etree.QName(current).localname
        parent = current.getparent()
        if parent is not None and (name in _REPEATABLE or not _is_cap(current)):
            same = [sibling for sibling in parent if sibling.tag == current.tag]
            steps.append(f"{name}[{same.index(current) + 1}]")
        else:
            steps.append(name)
        current = parent
    return "/".join(reversed(steps))


def _follow(root: etree._Element, xpath: str) -> etree._Element | None:
    """Walk libxml2's node path (``/ns0:alert/*[6]/cap:area[2]``) down from ``root``."""
    steps = xpath.strip("/").split("/")
    node = root
    for step in steps[1:]:
        match = _STEP.match(step)
        if match is None:
            return None
        name, index = match.group(1), int(match.group(2) or 1)
        local = name.split(":")[-1]
        children = [c for c in node if isinstance(c.tag, str)]
        if local != "*":
            children = [c for c in children if etree.QName(c).localname == local]
        if len(children) < index:
            return None
        node = children[index - 1]
    return node


def _is_cap(node: etree._Element) -> bool:
    return etree.QName(node).namespace == CAP12_NS


def _explained_by_missing(path: str, raw: str, missing: set[str]) -> bool:
    match = _EXPECTED.search(raw)
    if not match:
        return False
    parent = path.rsplit("/", 1)[0] if "Missing child" not in raw else path
    names = [_NS_PREFIX.sub("", name).strip() for name in match.group(1).split(",")]
    return any(f"{parent}/{name}" in missing for name in names)


def _plain(message: str) -> str:
    text = _NS_PREFIX.sub("", message)
    text = re.sub(r"^Element '([^']*)': ", "", text)
    text = text.replace("This element is not expected.", "element is not expected here.")
    text = text.replace("Missing child element(s).", "required child element missing.")
    text = re.sub(r"\[facet '\w+'\] ", "", text)
    return text.strip()
