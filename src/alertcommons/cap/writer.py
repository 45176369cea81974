"""CAP model → CAP 1.2 XML: stable, canonical output.

Elements come out in schema order with the CAP namespace as the default namespace, UTF-8,
two-space indentation between elements and text untouched, so the same model always writes
the same bytes.
"""

from __future__ import annotations

from lxml import etree

from alertcommons.cap.fields import FIELDS, Struct
from alertcommons.cap.model import CAP12_NS, Alert

_NSMAP = {None: CAP12_NS}


def to_element(alert: Alert) -> etree._Element:
    root = etree.Element(f"{{{CAP12_NS}}}alert", nsmap=_NSMAP)  # type: ignore[arg-type]
    _fill(root, alert)
    return root


def to_xml(alert: Alert) -> bytes:
    """Serialize ``alert`` as a CAP 1.2 document (with XML declaration)."""
    root = to_element(alert)
    etree.indent(root, space="  ")
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8") + b"\n"


def _fill(parent: etree._Element, struct: Struct) -> None:
    for spec in FIELDS[type(struct)]:
        value = getattr(struct, spec.attr)
        tag = f"{{{CAP12_NS}}}{spec.xml}"
        for item in value if spec.many else (value,):
            if item is None:
                continue
            child = etree.SubElement(parent, tag)
            if spec.child is None:
                child.text = item
            else:
                _fill(child, item)
