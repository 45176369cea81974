"""Other CAP sources in: poll Atom or RSS feeds of CAP (another Alert Commons hub, a national
weather service, an aggregator) and republish their alerts here.

Each source is configured — in settings (``ALERTCOMMONS_CAP_SOURCES``, a JSON list;
docs/sources.md), or by an admin through ``/api/v1/feeds/sources`` and the console
(``hub/sources.py``, kept in the database) — with its feed URL, the issuer organization
of this hub its alerts are republished under, and the certificates their signatures must
verify against. The organization's own rules apply: its sender must be the alert's sender
and its jurisdiction must cover the alert's areas, exactly as if it had published the alert
itself. An alert whose signature does not hold, or is not made by a configured certificate,
is refused (an unsigned one only where the source says
``"allow_unsigned": true``) and the reason is kept in the source's health.

An alert keeps its sender, identifier, ``sent`` and ``references``, so Update and Cancel
chains survive the hop and a repeat (the same sender and identifier) is never republished.
The source stays visible: ``source`` names the feed, and every ``info`` carries the parameter
``AlertCommons:feed`` with the source's name.

Fetching is the JMA ingest's (``jma_fetch``): only http(s), only on the feed's own host (or
hosts the source allows), within read and whole-fetch time limits and a size limit; a
source that fails backs off on its own and never holds up another. The hub starts without
any source, and a source that cannot start (its organization missing) only reports why.

Sources added at run time are read from the database every ``cap_source_reload_seconds`` on
every node, so one added, changed or paused on any node starts or stops everywhere without a
restart. Each source is polled by one node at a time: before each poll a node takes the
source's lease (``store/cap_sources.py``), and a node that does not hold it only waits. Should
two nodes ever both take an alert, the publisher keeps one (same sender and identifier).
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import socket
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

from cryptography import x509

from alertcommons.auth.jurisdiction import Jurisdiction
from alertcommons.auth.principal import Principal
from alertcommons.cap.certificates import load_certificates_pem, summary
from alertcommons.cap.model import Alert, ValuePair
from alertcommons.cap.reader import CapReadError, read_alert
from alertcommons.cap.signature import verify
from alertcommons.cap.xmlsafe import ReadLimits, UnsafeXMLError, parse_xml
from alertcommons.delivery.outbound import OutboundPolicy
from alertcommons.errors import AlertCommonsError
from alertcommons.hub.jma_fetch import Fetcher, FetchLimits, FetchRefused, LinkPolicy
from alertcommons.hub.metrics import Metrics
from alertcommons.hub.publish import Publisher
from alertcommons.hub.source_health import (
    HealthKeeper,
    SourceHealth,
    saved_health,
    stop_if_cancelled,
)
from alertcommons.jp.feed import ATOM, Entry
from alertcommons.problems import ProblemError
from alertcommons.settings import Settings
from alertcommons.store import alerts as alert_queries
from alertcommons.store import cap_sources, orgs
from alertcommons.store.engine import Store

log = logging.getLogger("alertcommons.cap_sources")

FEED_PARAMETER = "AlertCommons:feed"
FEED_LIMITS = ReadLimits(max_bytes=2 * 1024 * 1024, max_depth=16)
ALERT_LIMITS = ReadLimits(max_bytes=1024 * 1024, max_depth=64)
MAX_BACKOFF_SECONDS = 600.0
LEASE_MARGIN_SECONDS = 60.0


class SourceError(AlertCommonsError):
    """A CAP source's configuration cannot be used."""


@dataclass(frozen=True, slots=True)
class CapSource:
    name: str
    url: str
    organization: str  # the issuer organization alerts are republished under: id or sender
    certificates: tuple[x509.Certificate, ...] = ()
    allow_unsigned: bool = False
    allowed_hosts: tuple[str, ...] = ()
    directory: Path | None = None  # a folder of CAP files for batch import, instead of a feed
    poll_seconds: float | None = None  # None: the hub's ALERTCOMMONS_CAP_SOURCE_POLL_SECONDS
    id: str | None = None  # a source added through the admin API (none: from settings)

    @property
    def origin(self) -> str:
        return "settings" if self.id is None else "api"


def source_from_record(record: dict[str, Any]) -> CapSource:
    """A source as ``store/cap_sources.py`` keeps it; ``ValueError`` if it cannot be used."""
    pem = str(record["certificates"] or "").strip()
    certificates = tuple(x509.load_pem_x509_certificates(pem.encode())) if pem else ()
    directory = str(record["directory"] or "")
    return CapSource(
        name=record["name"],
        url=str(record["url"] or ""),
        organization=record["organization"],
        certificates=certificates,
        allow_unsigned=bool(record["allow_unsigned"]),
        allowed_hosts=tuple(str(h) for h in record["allowed_hosts"]),
        directory=Path(directory) if directory else None,
        poll_seconds=float(record["poll_seconds"]),
        id=record["id"],
    )


def sources_from_settings(settings: Settings) -> list[CapSource]:
    """The configured sources; a broken configuration is an error at start, said plainly."""
    text = settings.cap_sources.strip()
    if not text:
        return []
    try:
        items = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SourceError(f"ALERTCOMMONS_CAP_SOURCES is not JSON: {exc}") from None
    if not isinstance(items, list):
        raise SourceError("ALERTCOMMONS_CAP_SOURCES must be a JSON list of sources")
    found: list[CapSource] = []
    for index, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            raise SourceError(f"ALERTCOMMONS_CAP_SOURCES[{index}] is not an object")
        name, organization = item.get("name"), item.get("organization")
        url, directory = item.get("url") or "", item.get("directory") or ""
        if not all(isinstance(v, str) and v.strip() for v in (name, organization)) or not (
            isinstance(url, str) and isinstance(directory, str) and bool(url) != bool(directory)
        ):
            raise SourceError(
                f"ALERTCOMMONS_CAP_SOURCES[{index}] needs 'name', 'organization', and either"
                " 'url' or 'directory'"
            )
        assert isinstance(name, str) and isinstance(organization, str)
        if any(s.name == name for s in found):
            raise SourceError(f"ALERTCOMMONS_CAP_SOURCES: two sources are named '{name}'")
        certificates: list[x509.Certificate] = []
        cert_path = item.get("certificates")
        if cert_path:
            try:
                certificates = load_certificates_pem(Path(str(cert_path)))
            except (OSError, ValueError) as exc:
                raise SourceError(f"source '{name}': certificates {cert_path}: {exc}") from None
        allow_unsigned = item.get("allow_unsigned", False) is True
        if not certificates and not allow_unsigned:
            raise SourceError(
                f"source '{name}': give 'certificates' to verify its alerts against, or"
                " 'allow_unsigned': true"
            )
        hosts = item.get("allowed_hosts", [])
        found.append(
            CapSource(
                name=name,
                url=url,
                organization=organization,
                directory=Path(directory) if directory else None,
                certificates=tuple(certificates),
                allow_unsigned=allow_unsigned,
                allowed_hosts=tuple(str(h) for h in hosts) if isinstance(hosts, list) else (),
            )
        )
    return found


@dataclass
class _State:
    source: CapSource
    fetcher: Fetcher
    keeper: HealthKeeper
    health: SourceHealth = field(default_factory=SourceHealth)
    etag: str | None = None
    entries: list[Entry] = field(default_factory=list)  # as the feed last listed them
    handled: set[str] = field(default_factory=set)
    holding: bool = False  # this node holds the source's lease and polls it


class CapIngest:
    def __init__(
        self,
        store: Store,
        publisher: Publisher,
        sources: list[CapSource],
        interval: float,
        limits: FetchLimits | None = None,
        *,
        metrics: Metrics | None = None,
        outbound: OutboundPolicy | None = None,
        reload_seconds: float = 0.0,
        node: str | None = None,
    ) -> None:
        self.store = store
        self.publisher = publisher
        self.interval = interval
        self.limits = limits
        self.metrics = metrics
        self.outbound = outbound or OutboundPolicy()
        self.reload_seconds = reload_seconds  # 0: only the sources given here
        self.node = node or f"{socket.gethostname()[:40]}-{secrets.token_hex(4)}"
        self.fixed = frozenset(s.name for s in sources)  # from settings: never reloaded
        self.states = {s.name: self._state(s) for s in sources}
        self.broken: dict[str, str] = {}  # stored sources that cannot start, and why
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._watcher: asyncio.Task[None] | None = None
        self.problem: str | None = None  # why the configured sources do not run, if so

    @classmethod
    def from_settings(
        cls, store: Store, publisher: Publisher, settings: Settings, metrics: Metrics | None = None
    ) -> CapIngest:
        """The configured sources, and those added at run time (read from the database every
        ``cap_source_reload_seconds``); a configuration that cannot be used is reported (in
        the log and in /api/v1/feeds/sources), never a hub that will not start."""
        limits = FetchLimits(
            read_seconds=settings.jma_read_seconds, total_seconds=settings.jma_fetch_seconds
        )
        problem = None
        try:
            sources = sources_from_settings(settings)
        except SourceError as exc:
            sources, problem = [], str(exc)
            log.warning("CAP sources not started: %s", exc)
        ingest = cls(
            store,
            publisher,
            sources,
            settings.cap_source_poll_seconds,
            limits,
            metrics=metrics,
            outbound=settings.outbound_policy,
            reload_seconds=settings.cap_source_reload_seconds,
        )
        ingest.problem = problem
        return ingest

    def _state(self, source: CapSource) -> _State:
        # Sources an admin adds connect only where the outbound policy allows; those in
        # settings are the operator's own choice.
        outbound = self.outbound if source.id is not None else None
        fetcher = Fetcher(LinkPolicy(source.url, source.allowed_hosts), self.limits, outbound)
        return _State(source, fetcher, HealthKeeper(self.store, source.name, "cap"))

    async def start(self) -> None:
        await self.restore()
        for state in self.states.values():
            self._spawn(state)
        if self.reload_seconds > 0:
            self._watcher = asyncio.create_task(self._watch())

    def _spawn(self, state: _State) -> None:
        self._tasks[state.source.name] = asyncio.create_task(self._run(state))

    async def restore(self) -> None:
        """Take up each source's health as the database kept it (before a restart)."""
        saved = await saved_health(self.store, "cap")
        for name, state in self.states.items():
            if name in saved:
                state.health = saved[name]
                state.keeper.restored(state.health)

    async def _watch(self) -> None:
        while True:
            try:
                await self.reload()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database away for a moment: try again later
                log.warning("CAP sources not reloaded: %s", exc)
            await asyncio.sleep(self.reload_seconds)

    async def reload(self) -> None:
        """Start the sources added or changed in the database, stop those removed or paused."""
        records = await self.store.read(cap_sources.all_sources)
        wanted: dict[str, CapSource] = {}
        broken: dict[str, str] = {}
        for record in records:
            if not record["active"] or record["name"] in self.fixed:
                continue
            try:
                wanted[record["name"]] = source_from_record(record)
            except ValueError as exc:
                broken[record["name"]] = f"source '{record['name']}': {exc}"
        self.broken = broken
        for name in [n for n in self.states if n not in self.fixed]:
            if wanted.get(name) != self.states[name].source:
                await self._end(name)
        fresh = [source for name, source in wanted.items() if name not in self.states]
        if not fresh:
            return
        saved = await saved_health(self.store, "cap")
        for source in fresh:
            state = self._state(source)
            if source.name in saved:
                state.health = saved[source.name]
                state.keeper.restored(state.health)
            self.states[source.name] = state
            self._spawn(state)

    async def _end(self, name: str) -> None:
        task = self._tasks.pop(name, None)
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        state = self.states.pop(name)
        if state.holding:
            await self._let_go(name)

    async def _let_go(self, name: str) -> None:
        try:
            await self.store.write(lambda c: cap_sources.drop_lease(c, name, self.node))
        except Exception as exc:
            log.warning("CAP source %s: lease not released: %s", name, exc)

    async def stop(self) -> None:
        if self._watcher is not None:
            self._watcher.cancel()
            await asyncio.gather(self._watcher, return_exceptions=True)
            self._watcher = None
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks = {}
        # Another node takes the sources this one polled at its next poll, not a lease later.
        for state in self.states.values():
            if state.holding:
                state.holding = False
                await self._let_go(state.source.name)

    def status(self) -> list[dict[str, Any]]:
        return [
            {
                "id": s.source.id or f"settings:{s.source.name}",
                "name": s.source.name,
                "kind": "cap",
                "origin": s.source.origin,
                "url": s.source.url,
                "directory": str(s.source.directory) if s.source.directory else None,
                "organization": s.source.organization,
                "signed_only": not s.source.allow_unsigned,
                "allowed_hosts": list(s.source.allowed_hosts),
                "certificates": [summary(c) for c in s.source.certificates],
                "poll_seconds": s.source.poll_seconds or self.interval,
                "polled_here": s.holding,
                **s.health.to_dict(),
            }
            for s in self.states.values()
        ]

    async def _hold(self, state: _State, seconds: float) -> bool:
        """Hold the source's lease for ``seconds`` more; False when another node polls it.
        A node that takes a source over takes up its health as the other node left it."""
        name = state.source.name
        try:
            held = await self.store.write(
                lambda c: cap_sources.take_lease(c, name, self.node, seconds)
            )
        except Exception as exc:
            log.warning("CAP source %s: lease not taken: %s", name, exc)
            held = False
        if held and not state.holding:
            saved = (await saved_health(self.store, "cap")).get(name)
            if saved is not None and saved.fetches >= state.health.fetches:
                state.health = saved
                state.keeper.restored(saved)
        state.holding = held
        return held

    async def _run(self, state: _State) -> None:
        health = state.health
        while True:
            interval = state.source.poll_seconds or self.interval
            # Long enough to outlast one poll (its fetches have time limits) with room to spare.
            if not await self._hold(state, interval + LEASE_MARGIN_SECONDS):
                stop_if_cancelled()
                await asyncio.sleep(interval)
                continue
            health = state.health
            started = health.began()
            error = None
            try:
                result = await self.poll(state)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                result, error = "error", (str(exc) or type(exc).__name__)[:300]
                log.warning("CAP source %s failed (%s)", state.source.name, error)
            health.ended(started, result, error)
            delay = interval
            if result == "error":
                delay = min(interval * 2**health.failures, MAX_BACKOFF_SECONDS)
            if self.metrics is not None:
                self.metrics.source_fetched(
                    state.source.name, result, (health.last_duration_ms or 0.0) / 1000
                )
            await state.keeper.save(health)
            await self._hold(state, delay + LEASE_MARGIN_SECONDS)
            stop_if_cancelled()
            await asyncio.sleep(delay)

    async def poll(self, state: _State) -> str:
        """One conditional GET of the feed (or a look at the folder), then its new entries in
        order."""
        if state.source.directory is not None:
            state.entries = await asyncio.to_thread(_folder_entries, state.source.directory)
            state.handled &= {entry.id for entry in state.entries}
            return await self._take_entries(state, "ok")
        headers = {"If-None-Match": state.etag} if state.etag else {}
        fetched = await state.fetcher.get(state.source.url, headers, FEED_LIMITS.max_bytes)
        result = "ok"
        if fetched.status == 304:
            result = "not-modified"  # entries that failed before are due again all the same
        elif fetched.status != 200:
            raise OSError(f"HTTP {fetched.status}")
        else:
            kind = fetched.headers.get("content-type", "").split(";")[0].strip().lower()
            if kind and "xml" not in kind and "atom" not in kind and "rss" not in kind:
                raise OSError(f"the feed is {kind}, not Atom or RSS")
            state.entries = read_entries(fetched.body, state.source.url)
            listed = {entry.id for entry in state.entries}
            state.handled &= listed  # a feed is a window: remember what it still lists
            state.etag = fetched.headers.get("etag")
        return await self._take_entries(state, result)

    def _refused(self, state: _State, reason: str, warning: str) -> None:
        state.health.refused += 1
        state.health.warn(warning)
        if self.metrics is not None:
            self.metrics.source_refused_one(state.source.name, reason)

    async def _take_entries(self, state: _State, result: str) -> str:
        failed = False  # an entry before this one is to be tried again
        for entry in state.entries:
            if entry.id in state.handled:
                continue
            try:
                await self._take(state, entry, after_a_failure=failed)
            except asyncio.CancelledError:
                raise
            except FetchRefused as exc:
                self._refused(state, "link", f"{entry.url}: {exc}")
            except Exception as exc:  # this entry only: the next poll tries it again
                state.health.warn(f"{entry.url}: {str(exc) or type(exc).__name__}")
                failed = True
                continue
            state.handled.add(entry.id)
        return result

    async def _take(self, state: _State, entry: Entry, *, after_a_failure: bool = False) -> None:
        """Republish one entry. ``after_a_failure``: an earlier entry of the feed is still to
        come, so a refusal is not final: an update or cancel refused because what it refers
        to is not here yet is tried again with it, at the next poll."""
        source, health = state.source, state.health
        if source.directory is not None:
            data = await asyncio.to_thread(_read_file, Path(entry.url))
        else:
            fetched = await state.fetcher.get(entry.url, {}, ALERT_LIMITS.max_bytes)
            if fetched.status != 200:
                raise OSError(f"HTTP {fetched.status}")
            data = fetched.body
        try:
            parsed = read_alert(data, ALERT_LIMITS)
        except CapReadError as exc:
            self._refused(state, "not-cap", f"{entry.url}: not CAP: {exc}")
            return
        checked = verify(parsed.element, list(source.certificates))
        unsigned = checked.signature == "absent"
        trusted = checked.holds and checked.certificate == "trusted"
        if not trusted and not (unsigned and source.allow_unsigned):
            reason = "; ".join(checked.errors[:2]) or f"certificate {checked.certificate}"
            self._refused(
                state, "signature", f"{parsed.alert.identifier}: signature refused: {reason}"
            )
            return
        alert = _marked(parsed.alert, source.name)
        if not any(a.geocodes or a.polygons or a.circles for i in alert.infos for a in i.areas):
            health.without_areas += 1
            health.warn(f"{alert.identifier}: no usable area (no code, polygon or circle)")
            if self.metrics is not None:
                self.metrics.source_without_areas.labels(source.name).inc()
        held = await self.store.read(
            lambda c: alert_queries.find(c, alert.sender or "", alert.identifier or "")
        )
        if held is not None:
            health.duplicates += 1
            return
        principal = await self._principal(source)
        try:
            outcome = await self.publisher.publish(principal, alert)
        except ProblemError as exc:
            if after_a_failure:
                raise NotYet(
                    f"{alert.identifier}: refused for now (an earlier entry failed): {exc}"
                ) from None
            self._refused(state, "rejected", f"{alert.identifier}: refused: {exc}")
            return
        if outcome.created:
            health.published += 1
            if self.metrics is not None:
                self.metrics.source_republished.labels(source.name).inc()
        else:
            health.duplicates += 1

    async def _principal(self, source: CapSource) -> Principal:
        wanted = source.organization
        row = await self.store.read(
            lambda c: orgs.get_org(c, wanted) or orgs.org_by_sender(c, wanted)
        )
        if row is None or row.kind != "issuer":
            raise OSError(f"organization '{source.organization}' is not an issuer of this hub")
        return Principal(
            row.id,
            row.name,
            f"feed:{source.name}",
            frozenset({"issuer"}),
            row.sender,
            Jurisdiction(frozenset(json.loads(row.jurisdiction))),
        )


class NotYet(Exception):
    """An entry refused while an earlier one of its feed is still to come: tried again at
    the next poll, like an entry whose fetch failed."""


def _marked(alert: Alert, name: str) -> Alert:
    """The alert with its source visible: ``source`` and a parameter in every info."""
    source = f"{alert.source} (via {name})" if alert.source else f"via {name}"
    infos = [
        replace(info, parameters=[*info.parameters, ValuePair(FEED_PARAMETER, name)])
        for info in alert.infos
    ]
    return replace(alert, source=source[:1000], infos=infos)


def _folder_entries(folder: Path) -> list[Entry]:
    """The CAP files of a folder by name; a file changed since is a new entry."""
    if not folder.is_dir():
        raise OSError(f"{folder} is not a directory")
    found = []
    for path in sorted(folder.glob("*.xml")):
        if path.is_file():
            found.append(Entry(f"{path.name}@{path.stat().st_mtime_ns}", "", None, str(path)))
    return found


def _read_file(path: Path) -> bytes:
    if path.stat().st_size > ALERT_LIMITS.max_bytes:
        raise OSError(f"{path.name}: more than {ALERT_LIMITS.max_bytes:,} bytes")
    return path.read_bytes()


def read_entries(data: bytes, base_url: str) -> list[Entry]:
    """Entries of an Atom or RSS 2.0 feed of CAP, oldest first where dated."""
    try:
        root = parse_xml(data, FEED_LIMITS)
    except UnsafeXMLError as exc:
        raise OSError(f"not a feed: {exc}") from None
    entries: list[Entry] = []
    if root.tag == f"{ATOM}feed":
        for element in root.iterfind(f"{ATOM}entry"):
            entry_id = (element.findtext(f"{ATOM}id") or "").strip()
            links = list(element.iterfind(f"{ATOM}link"))
            cap = [x for x in links if "cap" in (x.get("type") or "")] or links
            href = next((str(x.get("href")) for x in cap if x.get("href")), None)
            if entry_id and href:
                updated = (element.findtext(f"{ATOM}updated") or "").strip()
                entries.append(Entry(entry_id, "", _moment(updated), urljoin(base_url, href)))
    elif root.tag == "rss":
        for item in root.iterfind("channel/item"):
            href = None
            enclosure = item.find("enclosure")
            if enclosure is not None and enclosure.get("url"):
                href = str(enclosure.get("url"))
            href = href or (item.findtext("link") or "").strip() or None
            guid = (item.findtext("guid") or "").strip() or href
            if guid and href:
                entries.append(Entry(guid, "", None, urljoin(base_url, href)))
    else:
        raise OSError(f"not an Atom or RSS feed: root element is {root.tag}")
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    entries.sort(key=lambda e: e.updated or epoch)
    return entries


def _moment(text: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
