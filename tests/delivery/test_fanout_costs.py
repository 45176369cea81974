"""What makes fan-out cheap, kept honest: one render per alert and format whatever the number
of endpoints (with bytes equal to rendering each), one HMAC per delivery over the same bytes a
receiver verifies, one encoding per stream event queued to every client, and a client that
stops reading dropped with a reason instead of being waited for."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import pytest

from alertcommons.delivery import stream
from alertcommons.delivery.channels import webhook
from alertcommons.delivery.filters import parse_filter
from alertcommons.delivery.matching import AlertFacts
from alertcommons.delivery.message import Message

RECORD = {"id": "A1", "areas": ["131016"], "headline": "避難指示", "nested": {"n": [1, 2.5, None]}}


def _message() -> Message:
    return Message(
        alert_id="A1",
        delivery_id="",
        sender="city.example.jp",
        identifier="x-1",
        msg_type="Alert",
        status="Actual",
        urgency="Immediate",
        severity="Severe",
        areas=("131016",),
        cap_xml=b"<alert/>",
        record=RECORD,
        received_at=1.0,
    )


def test_a_body_is_rendered_once_per_alert_and_format_with_the_same_bytes() -> None:
    template = _message()
    calls: list[str] = []

    def render(message: Message) -> dict[str, Any]:
        calls.append(message.delivery_id)
        return dict(message.record)

    for number in range(1000):
        delivery = template.for_delivery(f"D{number}")
        body = delivery.rendered("json", render)
        expected = json.dumps({"delivery_id": f"D{number}", **RECORD}, ensure_ascii=False)
        assert body == expected.encode()
        assert delivery.json_body() == expected.encode()
        assert delivery.alert_id == "A1" and template.delivery_id == ""
    assert len(calls) == 1


def test_a_delivery_id_that_needs_escaping_is_escaped() -> None:
    body = _message().for_delivery('D"1\n').json_body()
    assert json.loads(body)["delivery_id"] == 'D"1\n'


def test_the_cell_broadcast_body_keeps_its_fields_in_order() -> None:
    body = json.loads(
        _message().for_delivery("D9").rendered("cell-broadcast", webhook._cell_broadcast)
    )
    assert list(body)[:3] == ["delivery_id", "alert_id", "sender"]
    assert body["delivery_id"] == "D9" and body["alert_id"] == "A1"


def test_one_hmac_over_id_timestamp_body() -> None:
    secret = webhook.new_secret()
    key = base64.b64decode(secret.removeprefix("whsec_"))
    body = b"<alert>" + "避難".encode() * 500 + b"</alert>"
    digest = hmac.new(key, b"A1.1700000000." + body, hashlib.sha256).digest()
    signature = webhook.sign(secret, "A1", 1700000000, body)
    assert signature == "v1," + base64.b64encode(digest).decode()
    headers = {"webhook-id": "A1", "webhook-timestamp": "1700000000"}
    assert webhook.verify_signature(secret, {**headers, "webhook-signature": signature}, body)


def _facts() -> AlertFacts:
    from alertcommons.delivery.matching import facts_of
    from tests.support.alerts import make_alert

    return facts_of(make_alert("city.example.jp", ["131016"]))


@pytest.mark.anyio
async def test_one_encoding_reaches_every_client_and_a_stalled_one_is_dropped_with_a_reason() -> (
    None
):
    broadcaster = stream.Broadcaster()
    tokyo, canonical = parse_filter({"areas": ["13"]})
    key = json.dumps(canonical, sort_keys=True)
    readers = [broadcaster.subscribe(key, tokyo) for _ in range(50)]
    stalled = broadcaster.subscribe(key, tokyo)
    facts = _facts()
    try:
        for number in range(stream.QUEUE_LIMIT + 5):
            reached = broadcaster.publish(f"E{number:04d}", facts, {"n": number})
            queued = [reader.queue.get_nowait() for reader in readers]
            assert all(chunk is queued[0] for chunk in queued)  # encoded once, not per client
            assert isinstance(queued[0], bytes) and queued[0].startswith(
                f"id: E{number:04d}\n".encode()
            )
            assert reached == len(readers) + (0 if stalled.ended else 1)
        assert stalled.ended and stalled.reason == stream.TOO_SLOW
        assert stalled.queue.get_nowait() == stream.CLOSE and stalled.queue.empty()
        assert not any(reader.ended for reader in readers)
        assert stream.close_event(stalled.reason).startswith(b"event: close\ndata: {")
    finally:
        broadcaster.close()
    assert all(reader.reason == stream.STOPPING for reader in readers)


@pytest.mark.anyio
async def test_a_write_the_client_never_takes_is_abandoned_after_the_send_timeout() -> None:
    """No timer per write: the heartbeat sweep drops a stream whose write has been open for
    ``send_timeout``, cancelling its task in that write; a stream writing nothing is kept."""
    import asyncio
    import time

    broadcaster = stream.Broadcaster()
    tokyo, canonical = parse_filter({"areas": ["13"]})
    key = json.dumps(canonical, sort_keys=True)
    stuck = broadcaster.subscribe(key, tokyo, send_timeout=0.2)
    idle = broadcaster.subscribe(key, tokyo, send_timeout=0.2)
    never: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    async def write_to_a_client_that_reads_nothing() -> None:
        stuck.writing_since = time.monotonic()
        await never  # the server's send, waiting for the client to drain its buffer

    stuck.task = asyncio.ensure_future(write_to_a_client_that_reads_nothing())
    try:
        await asyncio.sleep(stream.SWEEP_SECONDS * 2 + 0.3)
        assert stuck.task.cancelled()
        assert stuck.ended and stuck.stalled and stuck.reason == stream.STALLED
        assert not idle.ended
    finally:
        broadcaster.close()


@pytest.mark.anyio
async def test_an_idle_stream_is_written_by_the_publisher_and_a_paused_one_by_its_task() -> None:
    """An event reaches an idle stream through the server's send from the publisher itself
    (no task woken, no queue); when that send waits (the client's buffer is full) the write
    is handed to the stream's task, and the events after it queue behind it, in order."""
    import asyncio

    broadcaster = stream.Broadcaster()
    tokyo, canonical = parse_filter({"areas": ["13"]})
    key = json.dumps(canonical, sort_keys=True)
    fast, paused = broadcaster.subscribe(key, tokyo), broadcaster.subscribe(key, tokyo)
    written: dict[str, list[bytes]] = {"fast": [], "paused": []}
    drained = asyncio.Event()

    async def fast_send(message: dict[str, Any]) -> None:
        written["fast"].append(message["body"])

    async def paused_send(message: dict[str, Any]) -> None:
        if not drained.is_set():
            await drained.wait()  # as uvicorn's send waits while the transport is paused
        written["paused"].append(message["body"])

    fast.send, paused.send = fast_send, paused_send
    fast.idle = paused.idle = True
    facts = _facts()
    try:
        assert broadcaster.publish("E0001", facts, {"n": 1}) == 2
        assert written["fast"] == [stream.sse_event("E0001", {"n": 1})] and fast.queue.empty()
        assert fast.idle and not paused.idle and not written["paused"]
        unfinished = paused.queue.get_nowait()
        assert isinstance(unfinished, stream.Unfinished)
        broadcaster.publish("E0002", facts, {"n": 2})
        assert written["fast"][-1].startswith(b"id: E0002\n")
        assert paused.queue.get_nowait() == stream.sse_event("E0002", {"n": 2})
        drained.set()
        await unfinished  # what the stream's task does with it
        assert written["paused"] == [stream.sse_event("E0001", {"n": 1})]
        fast.sent.add("E0003")  # a resumption has just replayed it to this client
        broadcaster.publish("E0003", facts, {"n": 3})
        assert not any(chunk.startswith(b"id: E0003\n") for chunk in written["fast"])
    finally:
        broadcaster.close()


@pytest.mark.anyio
async def test_a_write_left_unfinished_by_a_stream_that_ends_is_abandoned() -> None:
    import asyncio

    broadcaster = stream.Broadcaster()
    tokyo, canonical = parse_filter({"areas": ["13"]})
    subscriber = broadcaster.subscribe(json.dumps(canonical, sort_keys=True), tokyo)
    abandoned: list[bool] = []

    async def never_drains(message: dict[str, Any]) -> None:
        try:
            await asyncio.Event().wait()
        finally:
            abandoned.append(True)

    subscriber.send, subscriber.idle = never_drains, True
    broadcaster.publish("E0001", _facts(), {"n": 1})
    broadcaster.close()
    assert abandoned == [True]
    assert subscriber.queue.get_nowait() == stream.CLOSE and subscriber.queue.empty()
    assert subscriber.reason == stream.STOPPING
