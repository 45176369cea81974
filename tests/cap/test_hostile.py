"""Hostile XML: each attack is a clear error, touches nothing outside, and stays small."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
from lxml import etree

from alertcommons.cap import CapReadError, ReadLimits, read_alerts
from alertcommons.cap.xmlsafe import UnsafeXMLError, _parser
from tests.support.fileaccess import FileWatch

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>&lol9;</identifier></alert>
"""


class _Recorder(BaseHTTPRequestHandler):
    requests: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        _Recorder.requests.append(self.path)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"<!ENTITY send 'x'>")

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def http_recorder() -> Iterator[str]:
    """A real HTTP server that records every request: an XXE must never reach it."""
    _Recorder.requests = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _xee_aimed_at(cap_dir: Path, target: Path, base_url: str) -> bytes:
    text = (cap_dir / "xee.cap").read_text()
    text = text.replace("file:///etc/passwd", target.as_uri())
    text = text.replace("http://localhost:8080", base_url)
    return text.encode()


def test_xee_sample_refused_without_opening_target(
    cap_dir: Path, tmp_path: Path, http_recorder: str
) -> None:
    target = tmp_path / "secret.txt"
    target.write_text("root:x:0:0")
    document = _xee_aimed_at(cap_dir, target, http_recorder)
    with FileWatch(target) as watch:
        with pytest.raises(CapReadError, match="DOCTYPE"):
            read_alerts(document)
        assert not watch.touched(), "the parser opened the entity's target file"
    assert _Recorder.requests == []


def test_parser_alone_loads_nothing_even_without_the_doctype_check(
    cap_dir: Path, tmp_path: Path, http_recorder: str
) -> None:
    # Defence in depth: if the DOCTYPE pre-check were gone, the parser settings still hold.
    target = tmp_path / "secret.txt"
    target.write_text("root:x:0:0")
    document = _xee_aimed_at(cap_dir, target, http_recorder)
    with FileWatch(target) as watch:
        try:
            root = etree.fromstring(document, _parser())
        except (etree.XMLSyntaxError, UnsafeXMLError):
            root = None  # refused by the parser or by our resolver: either way, nothing read
        assert not watch.touched()
    if root is not None:
        assert b"root:x" not in etree.tostring(root)
    assert _Recorder.requests == []


def test_watch_detects_an_open(tmp_path: Path) -> None:
    # The proof above is only worth something if the watch sees an open when one happens.
    target = tmp_path / "seen.txt"
    target.write_text("x")
    with FileWatch(target) as watch:
        target.read_text()
        assert watch.touched()


def test_billion_laughs_refused() -> None:
    with pytest.raises(CapReadError, match="DOCTYPE"):
        read_alerts(BILLION_LAUGHS)


def test_deep_nesting_refused() -> None:
    deep = b"<a>" * 10_000 + b"</a>" * 10_000
    with pytest.raises(CapReadError, match="deep"):
        read_alerts(deep)


def test_depth_limit_is_configurable() -> None:
    ns = b'<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">'
    document = ns + b"<info>" * 20 + b"</info>" * 20 + b"</alert>"
    with pytest.raises(CapReadError, match="deeper than 10"):
        read_alerts(document, ReadLimits(max_depth=10))


def test_size_limit_is_checked_before_parsing() -> None:
    big = b"<alert>" + b" " * (2 * 1024 * 1024) + b"</alert>"
    with pytest.raises(CapReadError, match="over the limit"):
        read_alerts(big)
    with pytest.raises(CapReadError, match="over the limit of 100"):
        read_alerts(b"<a>" + b"x" * 200 + b"</a>", ReadLimits(max_bytes=100))


@pytest.mark.parametrize(
    "garbage",
    [
        bytes(range(256)) * 20,
        b"\x00\x01\x02\xff\xfe",
        b"",
        b"   \n",
        b"<alert",
        b"\xff\xfe<\x00a\x00>\x00",
        "<alert>日本</alert>".encode("utf-16"),
    ],
)
def test_garbage_is_a_clear_error(garbage: bytes) -> None:
    with pytest.raises(CapReadError):
        read_alerts(garbage)


def _run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "alertcommons", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def _peak_rss_mib(*args: str) -> tuple[int, str, float]:
    """Run the CLI and return its exit code, stdout, and its own peak memory (wait4)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "alertcommons", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert process.stdout is not None
    with process.stdout:
        output = process.stdout.read().decode()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    return process.returncode, output, usage.ru_maxrss / 1024


def test_cli_refuses_50_mib_document_in_bounded_memory(cap_dir: Path, tmp_path: Path) -> None:
    huge = tmp_path / "huge.cap"
    with huge.open("wb") as handle:
        handle.write(b'<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><note>')
        chunk = b"A" * (1024 * 1024)
        for _ in range(50):
            handle.write(chunk)
        handle.write(b"</note></alert>")
    _, _, baseline = _peak_rss_mib("cap", "validate", "--json", str(cap_dir / "canada.cap"))
    code, output, peak = _peak_rss_mib("cap", "validate", "--json", str(huge))
    assert code == 4  # unreadable: not an invalid alert (docs/cap.md, exit status)
    assert "over the limit" in output
    # Never loaded whole: refusing 50 MiB costs about what validating a 10 KB alert does.
    assert peak - baseline < 10, f"peak {peak:.0f} MiB against baseline {baseline:.0f} MiB"


@pytest.mark.parametrize(
    "content",
    [BILLION_LAUGHS, b"<a>" * 10_000 + b"</a>" * 10_000, bytes(range(256)) * 40],
    ids=["billion-laughs", "deep-nesting", "binary"],
)
def test_cli_hostile_input_clear_error_no_traceback(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "hostile.cap"
    path.write_bytes(content)
    result = _run_cli("cap", "validate", str(path))
    assert result.returncode == 4  # unreadable, with one clear line
    assert "UNREADABLE" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr
