"""Live streams (Server-Sent Events): every connected client with a matching filter gets each
new alert, formatted once and queued to all of them.

Clients are grouped by their filter, so a new alert is matched once per distinct filter, not
once per client: ten thousand apps watching Tokyo cost one match.

A client that takes no chunk for ``send_timeout`` seconds is dropped by the sweep that also
sends the heartbeats (every half second), not by a timeout scope around each write: that
scope's timer, made and cancelled per client per event, was three quarters of the hub's CPU
per stream event at ten thousand clients.

Nor does an event wake a task per client: while a stream's task waits on an empty queue, the
publisher writes the event to that client itself, with the server's own ``send`` (see
``Subscriber.write_now``). The server writes to the socket and returns at once unless the
client's buffer is full; only then does the stream's task take over, finishing that write
and the events queued behind it.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Coroutine, Generator, Sequence
from dataclasses import dataclass, field
from typing import Any

from alertcommons.delivery.filters import Filter
from alertcommons.delivery.matching import AlertFacts, Matcher

QUEUE_LIMIT = 256


def sse_event(alert_id: str, record: dict[str, Any]) -> bytes:
    data = json.dumps(record, ensure_ascii=False, separators=(",", ":"))
    return f"id: {alert_id}\nevent: alert\ndata: {data}\n\n".encode()


def close_event(reason: str) -> bytes:
    """The last event of a stream the hub ends: why, for clients that listen for "close"."""
    data = json.dumps({"reason": reason}, ensure_ascii=False, separators=(",", ":"))
    return f"event: close\ndata: {data}\n\n".encode()


HEARTBEAT = b": heartbeat\n\n"
CLOSE = b""  # put on a queue: the stream ends
TOO_SLOW = f"this client fell {QUEUE_LIMIT} events behind; reconnect with Last-Event-ID to resume"
STOPPING = "the hub is stopping; reconnect with Last-Event-ID to resume"
STALLED = "this client took nothing for the send timeout; reconnect with Last-Event-ID to resume"
SWEEP_SECONDS = 0.5


ServerSend = Callable[[dict[str, Any]], Coroutine[Any, Any, None]]


class Unfinished:
    """A write the publisher began that the server suspended (the client's buffer is full):
    the stream's task awaits it, which resumes the server's ``send`` where it stopped — what
    ``await`` does for a coroutine started eagerly (Python 3.12's eager tasks), by hand."""

    __slots__ = ("waiting", "write")

    def __init__(self, write: Coroutine[Any, Any, None], waiting: Any) -> None:
        self.write, self.waiting = write, waiting

    def __await__(self) -> Generator[Any, Any, None]:
        waiting = self.waiting
        while True:
            try:
                value = yield waiting  # the task waits on what the send waits on
            except BaseException as exc:  # a cancellation: the send sees it where it waits
                try:
                    waiting = self.write.throw(exc)
                except StopIteration:
                    return
            else:
                try:
                    waiting = self.write.send(value)
                except StopIteration:
                    return

    def close(self) -> None:
        """Abandon it (the stream ends): nothing of it was written."""
        self.write.close()


@dataclass(eq=False)
class Subscriber:
    key: str
    heartbeat: float = 15.0
    # bounded: a client that stops reading holds at most this many events, then is dropped
    queue: asyncio.Queue[bytes | Unfinished] = field(
        default_factory=lambda: asyncio.Queue(QUEUE_LIMIT)
    )
    ended: bool = False  # closed by the hub (or gone); it reconnects with Last-Event-ID
    reason: str | None = None  # why the hub closed it, told to the client as a "close" event
    next_beat: float = 0.0
    send_timeout: float = 30.0
    writing_since: float = 0.0  # a write to the client began then and has not finished (0: none)
    task: asyncio.Task[Any] | None = None  # the stream's task, cancelled if a write stalls
    stalled: bool = False  # dropped while its write waited on a client that took nothing
    # The server's own send for body chunks, when it is a coroutine function (uvicorn's is);
    # ``idle``: the stream's task waits on an empty queue, so the publisher may write itself.
    send: ServerSend | None = None
    idle: bool = False
    sent: set[str] = field(default_factory=set)  # alerts a resumption replayed: not again

    def write_now(self, chunk: bytes) -> bool:
        """Write ``chunk`` from the publisher, no task woken: uvicorn's send writes to the
        socket and returns without waiting unless flow control has paused the transport.
        If it waits, the write is queued for the stream's task to finish, and the events
        after it queue behind it. False: the connection failed (the stream ends)."""
        assert self.send is not None
        self.idle = False
        write = self.send({"type": "http.response.body", "body": chunk, "more_body": True})
        try:
            waiting = write.send(None)
        except StopIteration:
            self.idle = True
            return True
        except Exception:  # the connection broke mid-write: this client only
            self.end(None)
            return False
        if self.ended:  # ended meanwhile (the stop signal's handler can run mid-write)
            write.close()
            return False
        self.queue.put_nowait(Unfinished(write, waiting))  # idle: the queue was empty
        return True

    def stall(self) -> None:
        """A write has waited ``send_timeout`` on a client that takes nothing: abandon it (the
        stream's task is cancelled in that write) and end the stream."""
        self.stalled = True
        self.end(STALLED)
        if self.task is not None:
            self.task.cancel()

    def end(self, reason: str | None) -> None:
        """Close the stream: what is queued is dropped, and CLOSE is all that is left."""
        if self.ended:
            return
        self.ended, self.reason = True, reason
        self.idle = False
        while not self.queue.empty():
            item = self.queue.get_nowait()
            if isinstance(item, Unfinished):
                item.close()
        self.queue.put_nowait(CLOSE)


@dataclass
class _Group:
    filter: Filter
    members: set[Subscriber] = field(default_factory=set)


class Broadcaster:
    def __init__(self) -> None:
        self._groups: dict[str, _Group] = {}
        self._beats: asyncio.Task[None] | None = None
        self._loading: set[asyncio.Future[None]] = set()

    def keep(self, task: asyncio.Future[None]) -> None:
        """Hold a task that loads an alert for the streams until it is done."""
        self._loading.add(task)
        task.add_done_callback(self._loading.discard)

    def __len__(self) -> int:
        return sum(len(group.members) for group in self._groups.values())

    def subscribe(
        self,
        key: str,
        stream_filter: Filter,
        heartbeat: float = 15.0,
        send_timeout: float = 30.0,
    ) -> Subscriber:
        group = self._groups.get(key)
        if group is None:
            group = self._groups[key] = _Group(stream_filter)
        subscriber = Subscriber(
            key, heartbeat, next_beat=time.monotonic() + heartbeat, send_timeout=send_timeout
        )
        group.members.add(subscriber)
        if self._beats is None or self._beats.done():
            self._beats = asyncio.ensure_future(self._heartbeats())
        return subscriber

    async def _heartbeats(self) -> None:
        """One task beats for every stream: a comment line when a stream has been quiet; and
        a stream whose write has waited ``send_timeout`` on its client is dropped."""
        while self._groups:
            await asyncio.sleep(SWEEP_SECONDS)
            now = time.monotonic()
            for group in list(self._groups.values()):
                for subscriber in list(group.members):
                    since = subscriber.writing_since
                    if since and now - since >= subscriber.send_timeout:
                        subscriber.stall()
                    elif subscriber.next_beat <= now:
                        subscriber.next_beat = now + subscriber.heartbeat
                        self._offer(subscriber, HEARTBEAT)

    def close(self) -> None:
        """The hub stops: every stream ends at once, saying why. This runs in the stop
        signal's handler, between any two bytecodes of the event loop's thread (in the middle
        of a write, too): it only marks streams ended. One whose client takes nothing is
        cancelled by the server's graceful-shutdown timeout."""
        for group in self._groups.values():
            for subscriber in group.members:
                subscriber.end(STOPPING)
        if self._beats is not None:
            self._beats.cancel()
        for task in list(self._loading):
            task.cancel()

    @staticmethod
    def _offer(subscriber: Subscriber, chunk: bytes) -> bool:
        """Write ``chunk`` to one client now if its task is idle, else queue it, never waiting
        for the client: the event is encoded once, and a client that has stopped reading is
        dropped here, never waited for."""
        if subscriber.ended:
            return False
        if subscriber.idle:
            return subscriber.write_now(chunk)
        try:
            subscriber.queue.put_nowait(chunk)
            return True
        except asyncio.QueueFull:
            subscriber.end(TOO_SLOW)
            return False

    def unsubscribe(self, subscriber: Subscriber) -> None:
        group = self._groups.get(subscriber.key)
        if group is None:
            return
        group.members.discard(subscriber)
        if not group.members:
            del self._groups[subscriber.key]

    def publish(
        self,
        alert_id: str,
        facts: AlertFacts,
        record: dict[str, Any],
        earlier: Sequence[AlertFacts] = (),
    ) -> int:
        """Queue the alert to every matching subscriber; return how many got it.

        ``earlier``: the alerts this one updates or cancels. Whoever was sent those gets the
        follow-up, whatever its own filter says of it (a lift is a Minor message: a stream
        that asked for Severe and up must still see the order it showed end)."""
        if not self._groups:
            return 0
        matcher = Matcher((key, group.filter) for key, group in self._groups.items())
        event = sse_event(alert_id, record)
        reached = 0
        now = time.monotonic()
        keys = matcher.match(facts)
        for previous in earlier:
            keys |= matcher.match(previous)
        for key in keys:
            for subscriber in list(self._groups[key].members):
                if subscriber.sent and alert_id in subscriber.sent:
                    continue  # its resumption has just replayed this alert
                subscriber.next_beat = now + subscriber.heartbeat
                reached += self._offer(subscriber, event)
        return reached
