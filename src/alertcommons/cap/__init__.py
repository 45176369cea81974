"""CAP 1.2: model, hardened XML reading, validation, writing, JSON mapping, signatures.

This package is the domain: it does no I/O beyond the bytes it is handed.
"""

from __future__ import annotations

from alertcommons.cap.jsonmap import CapJSONError, from_json, to_json
from alertcommons.cap.model import Alert, Area, Info, Resource, ValuePair
from alertcommons.cap.reader import CapReadError, ParsedAlert, Problem, read_alert, read_alerts
from alertcommons.cap.signature import SignatureError, VerifyResult, verify
from alertcommons.cap.validate import Report, validate
from alertcommons.cap.writer import to_element, to_xml
from alertcommons.cap.xmlsafe import ReadLimits

__all__ = [
    "Alert",
    "Area",
    "CapJSONError",
    "CapReadError",
    "Info",
    "ParsedAlert",
    "Problem",
    "ReadLimits",
    "Report",
    "Resource",
    "SignatureError",
    "ValuePair",
    "VerifyResult",
    "from_json",
    "read_alert",
    "read_alerts",
    "to_element",
    "to_json",
    "to_xml",
    "validate",
    "verify",
]
