"""The fenced code blocks of README.md and docs/*.md, for the tests that run them.

Every block is either run by a docs test or says why not. A block says so on the line just
before its opening fence, in a comment that Markdown does not show:

* ``<!-- not run: REASON -->`` — e.g. a systemd unit or a TLS proxy's configuration, paths of a
  production host; the reason is required.
* ``<!-- request: METHOD PATH as ORG -->`` — a JSON request body, sent as it stands to the
  hub ``make run`` starts with the token of the demo organization ORG
  (tests/test_docs_coverage.py).
* ``<!-- synopsis: WHAT -->`` — command lines with placeholders (``FILE``, ``[--port P]``):
  every command, option and listed choice must exist (checked against the CLI itself).

An info string of ``text`` marks what is shown, not run (output, a layout). Which test runs
the other blocks of each file is listed in tests/test_docs_coverage.py, which fails on any
block that is neither run nor marked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FENCE = re.compile(
    r"^(?P<indent> *)```(?P<info>[^\n`]*)\n(?P<body>.*?)^(?P=indent)```", re.S | re.M
)
MARKER = re.compile(r"<!--\s*(?P<kind>not run|request|synopsis):\s*(?P<what>.*?)\s*-->\s*$")


@dataclass(frozen=True, slots=True)
class Block:
    doc: str  # path relative to the checkout, e.g. "docs/api.md"
    line: int  # of the opening fence
    info: str  # "sh", "json", "" ...
    text: str
    marker: str | None  # "not run", "request" or "synopsis"
    what: str | None  # the reason, or the request line

    def __str__(self) -> str:
        return f"{self.doc}:{self.line} ({self.info or 'no info string'})"


def documents() -> list[str]:
    return ["README.md", *sorted(f"docs/{p.name}" for p in (ROOT / "docs").glob("*.md"))]


def blocks(doc: str) -> list[Block]:
    text = (ROOT / doc).read_text()
    found = []
    for match in FENCE.finditer(text):
        before = text[: match.start()].rstrip("\n").rsplit("\n", 1)[-1]
        marker = MARKER.search(before)
        found.append(
            Block(
                doc=doc,
                line=text[: match.start()].count("\n") + 1,
                info=match.group("info").strip(),
                text=match.group("body"),
                marker=marker.group("kind") if marker else None,
                what=marker.group("what") if marker else None,
            )
        )
    return found


def runnable(doc: str, info: str) -> list[Block]:
    """The blocks of ``doc`` with this info string that a docs test runs: all but the marked."""
    return [b for b in blocks(doc) if b.info == info and b.marker is None]
