"""The hub's own log: one line per HTTP request (the access log) and one per event worth an
operator's eye (a node starting or stopping, an alert published, a summary of delivery
outcomes), in plain text or as JSON lines for a log collector.

Lines carry their facts as ``fields`` (``logger.info(message, extra={"fields": {...}})``); the
plain format prints them as ``key=value``, the JSON format as members. Nothing secret is ever
given as a field: no tokens, no Authorization or Cookie header, no query value whose name
says it is a credential (``redact_query``).
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import threading
import time
import weakref
from collections import deque
from typing import IO, Any
from urllib.parse import parse_qsl, quote

FORMATS = ("plain", "json")
# How long a line may wait in memory before it is written (see ``BufferedStreamHandler``).
FLUSH_SECONDS = 0.1
ACCESS = "alertcommons.access"
EVENTS = "alertcommons.events"

# Query parameters whose values are never written down: credentials by name.
SECRET_WORDS = ("token", "secret", "password", "passwd", "key", "auth", "signature", "session")


# An API token (store/tokens.py: "ac_" and 43 URL-safe characters) wherever it is pasted —
# under a parameter of any name, in the path — is masked by its shape.
API_TOKEN = re.compile(r"ac_[A-Za-z0-9_-]{20,}")


def redact(text: str) -> str:
    """``text`` (a path, a query value) with any API token in it masked."""
    return API_TOKEN.sub("ac_***", text) if "ac_" in text else text


def redact_query(query: str) -> str:
    """The query string with every credential-like value replaced by ``***``."""
    if not query:
        return ""
    parts = []
    for name, value in parse_qsl(query, keep_blank_values=True):
        shown = "***" if any(word in name.lower() for word in SECRET_WORDS) else redact(value)
        parts.append(f"{quote(redact(name), safe='')}={quote(shown, safe='*')}")
    return "&".join(parts)


_second: tuple[int, str] = (-1, "")  # the last whole second formatted, and its text


def _timestamp(record: logging.LogRecord) -> str:
    """``2026-11-29T22:00:00.123Z``. The date and time to the second are formatted once per
    second, not per line: under load they were a third of an access line's cost."""
    global _second
    created = record.created
    second, text = _second  # one tuple: threads logging at once never see half an update
    if second != int(created):
        second = int(created)
        text = time.strftime("%Y-%m-%dT%H:%M:%S.", time.gmtime(second))
        _second = (second, text)
    return f"{text}{int((created - second) * 1000):03d}Z"


def _short(name: str) -> str:
    return name.removeprefix("alertcommons.") if name != "alertcommons" else name


class PlainFormatter(logging.Formatter):
    """``2026-11-29T22:00:00.123Z INFO events node.start role=api …``: logfmt after the
    time, level, logger and message."""

    def format(self, record: logging.LogRecord) -> str:
        fields: dict[str, Any] = getattr(record, "fields", {})
        parts = (_timestamp(record), record.levelname, _short(record.name), record.getMessage())
        text = " ".join([part for part in parts if part])
        if fields:
            # ``event`` repeats the message: said once. A bare text is taken as it is here,
            # without a call per field (see _plain for the test).
            shown = [
                f"{key}={value if type(value) is str and _bare(value) else _plain(value)}"
                for key, value in fields.items()
                if key != "event"
            ]
            text += " " + " ".join(shown)
        if record.exc_info:
            text += "\n" + self.formatException(record.exc_info)
        return text


# A value printed bare: no white space (a tab or line break would start a forged field or
# line, and a request's path is decoded: %0A is one), no quote, nothing unprintable.
_BARE = re.compile(r'[^\s"\\]+')


def _plain(value: Any) -> str:
    kind = type(value)
    if kind is int or kind is float:  # not a bool, not a subclass
        return repr(value)
    text = value if kind is str else str(value)
    return text if _bare(text) else json.dumps(text, ensure_ascii=False)


def _bare(text: str) -> bool:
    """``_BARE.fullmatch(text) and text.isprintable()`` without the regular expression (a good
    part of a line's cost): every white space but the space is unprintable already
    (tests/hub/test_log_lines.py checks this over all of Unicode)."""
    return bool(text) and text.isprintable() and not (" " in text or '"' in text or "\\" in text)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ``time``, ``level``, ``logger``, ``message`` and the fields."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": _timestamp(record),
            "level": record.levelname.lower(),
            "logger": _short(record.name),
            "message": record.getMessage(),
        }
        line.update(getattr(record, "fields", {}))
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


class BufferedStreamHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Lines kept in memory and written together, at most ``FLUSH_SECONDS`` after the first of
    them: one write per line (a system call each, the stream's lock, its flush) was a good part
    of an access line's cost under load. A warning or worse is written at once, with every line
    before it. ``flush`` writes what is kept: ``logging.shutdown``, which runs at a clean exit,
    calls it, so a stopping process loses no line (only a crash can: SIGKILL, a power cut).

    The kept lines are a deque (appending and taking are atomic) and writing has a lock of its
    own, so the thread that writes never holds the lock a logging call takes: a line is never
    kept waiting by a write."""

    def __init__(self, stream: IO[str], delay: float = FLUSH_SECONDS) -> None:
        super().__init__(stream)
        self.delay = delay
        self._lines: deque[str] = deque()
        self._writing = threading.Lock()  # one writer at a time: lines leave in order
        self._due = threading.Event()
        self._flusher: threading.Thread | None = None
        # A forked child starts with none of the parent's kept lines (the parent writes
        # them), a lock no thread holds and no flusher: else it wrote the parent's lines
        # again, and with the flag still set no timer ever wrote its own.
        forked = weakref.WeakMethod(self._forked)  # a handler replaced since is let go
        os.register_at_fork(after_in_child=lambda: (method := forked()) and method())

    def _forked(self) -> None:
        self._lines = deque()
        self._writing = threading.Lock()
        self._due = threading.Event()
        self._flusher = None

    def handle(self, record: logging.LogRecord) -> bool | logging.LogRecord:  # type: ignore[override]
        """As ``Handler.handle``, less its lock: ``emit`` needs none (the formatters keep no
        state but ``_timestamp``'s, which is safe across threads; the deque is)."""
        kept = self.filter(record)
        if isinstance(kept, logging.LogRecord):  # Python 3.12: a filter may give another
            record = kept
        if kept:
            self.emit(record)
        return kept

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self._lines.append(self.format(record))
        except Exception:
            self.handleError(record)
            return
        if record.levelno >= logging.WARNING:
            self.flush()
        elif not self._due.is_set():
            self._wake()

    def flush(self) -> None:
        with self._writing:
            lines = self._lines
            taken = [lines.popleft() for _ in range(len(lines))]
            stream = self.stream
            if stream is None or getattr(stream, "closed", False):
                return  # closed by its owner (at exit, logging.shutdown flushes every handler)
            try:
                if taken:
                    stream.write("\n".join(taken) + "\n")
                if hasattr(stream, "flush"):
                    stream.flush()
            except Exception:
                # As StreamHandler.emit: a broken stream is reported, never raised to a caller.
                self.handleError(logging.makeLogRecord({"msg": "(lines kept for the log)"}))

    def _wake(self) -> None:
        flusher = self._flusher
        if flusher is None or not flusher.is_alive():  # the first line, or after a fork
            flusher = threading.Thread(target=self._flush_when_due, name="log-flush", daemon=True)
            self._flusher = flusher
            flusher.start()
        self._due.set()

    def _flush_when_due(self) -> None:
        while True:
            self._due.wait()
            time.sleep(self.delay)
            # Cleared before the lines are taken: one added after that wakes the next round.
            self._due.clear()
            self.flush()


def check(form: str) -> None:
    if form not in FORMATS:
        raise ValueError(f"log format {form!r}: choose plain or json")


def configure(form: str, stream: IO[str] | None = None) -> None:
    """Send the hub's loggers (``alertcommons.*``, INFO and up) to ``stream`` (standard error)
    in ``form``; called once by the command that runs a hub node or a dispatch worker, after
    everything it could refuse (the set-up is for the whole process). Records still
    propagate: the root logger of a hub process has no handler, so nothing is written twice."""
    check(form)
    handler = BufferedStreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(JsonFormatter() if form == "json" else PlainFormatter())
    root = logging.getLogger("alertcommons")
    for old in list(root.handlers):
        old.flush()  # what it keeps is written before it goes
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.INFO)


def flush() -> None:
    """Write every line the hub's handlers keep, now: for a process about to end without its
    exit handlers (``logging.shutdown``) running, as uvicorn's does when it raises the stop
    signal again."""
    for handler in logging.getLogger("alertcommons").handlers:
        handler.flush()


def event(name: str, **fields: Any) -> None:
    """One event line: ``name`` is what happened (``node.start``, ``alert.published``)."""
    logging.getLogger(EVENTS).info(name, extra={"fields": {"event": name, **fields}})
