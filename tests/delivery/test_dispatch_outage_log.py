"""While the database is away every claim round fails, several a second: the log gets the
first failure with its traceback, then a line now and then, and a line when rounds work again
— not a traceback per round burying everything else an operator needs to read."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from alertcommons.delivery.dispatcher import Dispatcher
from alertcommons.store import deliveries as delivery_queries
from tests.support.hub import Hub
from tests.support.waiting import until

pytestmark = [pytest.mark.anyio, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]


async def test_a_long_outage_is_one_traceback_then_a_line_now_and_then(
    hub: Hub, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    hub.dispatch_fast(poll_seconds=0.005)
    dispatcher: Dispatcher = hub.services.dispatcher
    rounds = [0]
    real = delivery_queries.claim_due

    def away(*args: Any, **kwargs: Any) -> delivery_queries.ClaimRound:
        rounds[0] += 1
        if rounds[0] <= 130:
            raise ConnectionError("the database is away")
        return real(*args, **kwargs)

    monkeypatch.setattr(delivery_queries, "claim_due", away)
    with caplog.at_level(logging.INFO, logger="alertcommons.delivery"):
        dispatcher.wake()
        await until(lambda: rounds[0] > 131, 30)
    records = [r for r in caplog.records if r.name == "alertcommons.delivery"]
    with_traceback = [r for r in records if r.exc_info]
    assert len(with_traceback) == 1
    still = [r for r in records if "still failing" in r.getMessage()]
    assert len(still) == 2  # after 60 and 120 failed rounds
    assert any("work again after 130 failed" in r.getMessage() for r in records)
