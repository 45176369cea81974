"""The log formatters on their own: the time of each line and how plain values are printed;
the access line's record; the handler that writes lines together.

The time to the second is formatted once per second and reused (it was a third of an access
line's cost); these check it against a fresh formatting of every instant, across second
boundaries and in both formats."""

from __future__ import annotations

import io
import json
import logging
import os
import time
import weakref
from datetime import UTC, datetime
from pathlib import Path

import pytest

from alertcommons.api import accesslog
from alertcommons.logs import (
    _BARE,
    ACCESS,
    BufferedStreamHandler,
    JsonFormatter,
    PlainFormatter,
    _plain,
)

INSTANTS = [1764460799.9996, 1764460800.0, 1764460800.0004, 1764460800.5, 1764547199.999, 0.25]


def _record(created: float, **fields: object) -> logging.LogRecord:
    record = logging.LogRecord("alertcommons.access", logging.INFO, __file__, 0, "", (), None)
    record.created = created
    record.fields = fields
    return record


def _expected(created: float) -> str:
    moment = datetime.fromtimestamp(created, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{int((created % 1) * 1000):03d}Z"


@pytest.mark.parametrize("created", INSTANTS + list(reversed(INSTANTS)))
def test_each_line_carries_its_own_instant(created: float) -> None:
    plain = PlainFormatter().format(_record(created))
    assert plain.split(" ", 1)[0] == _expected(created)
    assert json.loads(JsonFormatter().format(_record(created)))["time"] == _expected(created)


def test_numbers_bare_and_text_quoted_where_it_could_forge_a_field() -> None:
    line = PlainFormatter().format(
        _record(1764460800.0, status=200, ms=1.5, ok=True, path="/a b\nstatus=500")
    )
    assert line.endswith('status=200 ms=1.5 ok=True path="/a b\\nstatus=500"')


def test_a_value_is_bare_exactly_when_the_pattern_and_isprintable_say_so() -> None:
    """The formatter checks a text without its regular expression (logs._plain): the same
    answer for every character of Unicode alone and beside others."""
    for point in range(0x110000):
        char = chr(point)
        for text in (char, f"a{char}b"):
            expected = bool(_BARE.fullmatch(text)) and text.isprintable()
            shown = _plain(text)
            assert (shown == text) is expected, hex(point)
    assert _plain("") == '""'


def test_the_access_record_is_a_log_record_as_logging_makes_it() -> None:
    made = logging.LogRecord(ACCESS, logging.INFO, accesslog.__file__, 0, "", (), None)
    ours = accesslog._record({"status": 200})
    assert set(vars(ours)) == set(vars(made)) | {"fields"}
    for name in ("name", "levelname", "levelno", "pathname", "filename", "module", "process"):
        assert getattr(ours, name) == getattr(made, name), name
    assert (ours.thread, ours.threadName) == (made.thread, made.threadName)
    assert abs(ours.created - made.created) < 1 and ours.relativeCreated >= made.relativeCreated
    assert ours.msecs == int((ours.created % 1) * 1000)
    assert PlainFormatter().format(ours).endswith(" INFO access status=200")


class Stream(io.StringIO):
    def __init__(self) -> None:
        super().__init__()
        self.writes = 0

    def write(self, text: str) -> int:
        self.writes += 1
        return super().write(text)


def _logger(handler: logging.Handler) -> logging.Logger:
    logger = logging.Logger("alertcommons.test-buffered")
    handler.setFormatter(PlainFormatter())
    logger.addHandler(handler)
    return logger


def test_lines_are_written_together_soon_and_a_warning_at_once() -> None:
    stream = Stream()
    handler = BufferedStreamHandler(stream, delay=0.2)
    logger = _logger(handler)
    for number in range(5):
        logger.info("line", extra={"fields": {"n": number}})
    assert stream.getvalue() == ""  # kept, not yet written
    deadline = time.monotonic() + 5
    while not stream.getvalue() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert stream.getvalue().count("\n") == 5 and stream.writes == 1  # one write for all
    logger.info("before")
    logger.warning("trouble")  # written at once, after the line before it
    lines = stream.getvalue().splitlines()
    assert lines[-2].endswith("INFO test-buffered before") and "WARNING" in lines[-1]


def test_no_line_is_lost_when_the_process_stops_cleanly() -> None:
    stream = Stream()
    handler = BufferedStreamHandler(stream, delay=60)
    logger = _logger(handler)
    logger.info("last words")
    logging.shutdown([weakref.ref(handler)])  # what runs at a clean exit
    assert stream.getvalue().endswith("INFO test-buffered last words\n")


def test_a_forked_child_writes_its_own_lines_and_not_the_parents(tmp_path: Path) -> None:
    """The parent's kept lines are the parent's to write; the child's are written by its own
    timer (its exit here skips the exit handlers, as a crash or os._exit does)."""
    path = tmp_path / "log.txt"
    with path.open("a", buffering=1) as stream:
        handler = BufferedStreamHandler(stream, delay=0.05)
        handler.setFormatter(PlainFormatter())
        logger = logging.getLogger("alertcommons.forktest")
        logger.addHandler(handler)
        logger.propagate = False
        logger.setLevel(logging.INFO)
        try:
            logger.info("parent line")  # kept, not yet written
            child = os.fork()
            if child == 0:  # pragma: no cover - the child process
                logger.info("child line")
                time.sleep(0.5)
                os._exit(0)
            os.waitpid(child, 0)
            handler.flush()
        finally:
            logger.removeHandler(handler)
            handler.close()
    text = path.read_text()
    assert text.count("parent line") == 1
    assert text.count("child line") == 1
