"""Where a publish's CPU work runs: a small alert on the event loop (thread hand-offs were most
of its latency), a big one in the validation worker so that it cannot stall the loop."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from alertcommons.hub.publish import INLINE_BYTES
from tests.support.alerts import CAP_XML, make_alert, xml
from tests.support.hub import Hub

pytestmark = pytest.mark.anyio


def _record_threads(hub: Hub) -> list[str]:
    """The threads the publisher's jurisdiction check and signing run on, from now on."""
    publisher = hub.services.publisher
    seen: list[str] = []
    for name in ("_check_areas", "_signed_record"):
        original = getattr(publisher, name)

        def recorded(*args: Any, _original: Any = original) -> Any:
            seen.append(threading.current_thread().name)
            return _original(*args)

        setattr(publisher, name, recorded)
    return seen


async def test_small_alerts_on_the_loop_big_ones_in_the_worker(hub: Hub) -> None:
    city = await hub.chiyoda()
    seen = _record_threads(hub)
    loop_thread = threading.current_thread().name

    small = xml(make_alert(city["sender"], ["131016"]))
    assert len(small) <= INLINE_BYTES
    response = await hub.client.post(
        "/api/v1/alerts", content=small, headers={**city["headers"], **CAP_XML}
    )
    assert response.status_code == 201, response.text
    assert seen == [loop_thread, loop_thread]

    seen.clear()
    alert = make_alert(city["sender"], ["131016"])
    alert.infos[0].description = "避難してください。" * 2000
    big = xml(alert)
    assert len(big) > INLINE_BYTES
    response = await hub.client.post(
        "/api/v1/alerts", content=big, headers={**city["headers"], **CAP_XML}
    )
    assert response.status_code == 201, response.text
    assert len(seen) == 2
    assert all(name.startswith("validate") for name in seen), seen
