"""A hardened XML parser for documents that come from outside.

Refused before libxml2 ever sees them: documents over the size limit and documents with a
DOCTYPE (every entity attack — billion laughs, external entities, XInclude via DTD — needs
one, and no CAP message does). The parser itself is configured to load nothing, resolve no
entity and touch no network, and a resolver that refuses every request backs that up.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import cache
from typing import Any

from lxml import etree

from alertcommons.errors import AlertCommonsError

DEFAULT_MAX_BYTES = 1024 * 1024
DEFAULT_MAX_DEPTH = 64

_DOCTYPE_MARKERS = tuple(
    marker.encode(encoding)
    for marker in ("<!DOCTYPE", "<!ENTITY")
    for encoding in ("utf-8", "utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be")
)


class UnsafeXMLError(AlertCommonsError):
    """The document was refused before or while parsing; the message says why."""


@dataclass(frozen=True, slots=True)
class ReadLimits:
    max_bytes: int = DEFAULT_MAX_BYTES
    max_depth: int = DEFAULT_MAX_DEPTH


_DEFAULT_LIMITS = ReadLimits()


class _RefuseEverything(etree.Resolver):
    def resolve(self, system_url: str, public_id: str, context: object = None) -> None:
        raise UnsafeXMLError(f"refused to load external resource {system_url!r}")


_local = threading.local()


def _parser() -> etree.XMLParser:
    # lxml parsers are not thread-safe; one per thread is cheap and reusable.
    parser: etree.XMLParser | None = getattr(_local, "parser", None)
    if parser is None:
        parser = etree.XMLParser(
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            dtd_validation=False,
            attribute_defaults=False,
            huge_tree=False,
            collect_ids=False,
            remove_blank_text=False,
        )
        parser.resolvers.add(_RefuseEverything())
        _local.parser = parser
    return parser


def parse_xml(data: bytes, limits: ReadLimits = _DEFAULT_LIMITS) -> etree._Element:
    """Parse untrusted bytes into an element tree, or raise :class:`UnsafeXMLError`."""
    if len(data) > limits.max_bytes:
        raise UnsafeXMLError(
            f"document is {len(data):,} bytes, over the limit of {limits.max_bytes:,} bytes"
        )
    if not data.strip():
        raise UnsafeXMLError("document is empty")
    if any(marker in data for marker in _DOCTYPE_MARKERS):
        raise UnsafeXMLError(
            "document has a DOCTYPE or entity declaration; these are refused "
            "(CAP needs none, and they carry entity-expansion and external-entity attacks)"
        )
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        raise UnsafeXMLError(f"not well-formed XML: {_describe(exc)}") from None
    except (ValueError, LookupError) as exc:  # e.g. an unknown declared encoding
        raise UnsafeXMLError(f"cannot read document: {exc}") from None
    docinfo: Any = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise UnsafeXMLError("document has a DOCTYPE declaration; these are refused")
    _check_depth(root, limits.max_depth)
    return root


def _describe(exc: etree.XMLSyntaxError) -> str:
    message = str(exc.msg or exc).strip()
    if "Excessive depth" in message or "too deep" in message.lower():
        return "elements nested too deeply"
    return message


def _check_depth(root: etree._Element, max_depth: int) -> None:
    # One XPath step per level, evaluated in C: is there any element below max_depth?
    if _below(max_depth)(root):
        raise UnsafeXMLError(f"elements nested deeper than {max_depth} levels")


@cache
def _below(depth: int) -> etree.XPath:
    return etree.XPath("boolean(" + "/".join(["*"] * depth) + ")")
