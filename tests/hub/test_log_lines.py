"""The log formatters on their own: the time of each line and how plain values are printed.

The time to the second is formatted once per second and reused (it was a third of an access
line's cost); these check it against a fresh formatting of every instant, across second
boundaries and in both formats."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

import pytest

from alertcommons.logs import JsonFormatter, PlainFormatter

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
