"""Other CAP sources in: poll Atom or RSS feeds of CAP (another Alert Commons hub, a national
weather service, an aggregator) and republish their alerts here.

Each source is configured (``ALERTCOMMONS_CAP_SOURCES``, a JSON list; docs/operations.md) with
its feed URL, the issuer organization of this hub its alerts are republished under, and the
certificates their signatures must verify against. The organization's own rules apply: its
sender must be the alert's sender and its jurisdiction must cover the alert's areas, exactly
as if it had published the alert itself. An alert whose signature does not hold, or is not
made by a configured certificate, is refused (an unsigned one only where the source says
``"allow_unsigned": true``) and the reason is kept in the source's health.

An alert keeps its sender, identifier, ``sent`` and ``references``, so Update and Cancel
chains survive the hop and a repeat (the same sender and identifier) is never republished.
The source stays visible: ``source`` names the feed, and every ``info`` carries the parameter
``AlertCommons:feed`` with the source's name.

Fetching is the JMA ingest's (``jma_fetch``): only http(s), only on the feed's own host (or
hosts the source allows), within read and whole-fetch time limits and a size limit; a
source that fails backs off on its own and never holds up another. The hub starts without
any source, and a source that cannot start (its organization missing) only reports why.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

from cryptography import x509

from alertcommons.auth.jurisdiction import Jurisdiction
from alertcommons.auth.principal import Principal
from alertcommons.cap.certificates import load_certificates_pem
from alertcommons.cap.model import Alert, ValuePair
from alertcommons.cap.reader import CapReadError, read_alert
from alertcommons.cap.signature import verify
from alertcommons.cap.xmlsafe import ReadLimits, UnsafeXMLError, parse_xml
from alertcommons.errors import AlertCommonsError
from alertcommons.hub.jma_fetch import Fetcher, FetchLimits, FetchRefused, LinkPolicy
from alertcommons.hub.publish import Publisher
from alertcommons.jp.feed import ATOM, Entry
from alertcommons.problems import ProblemError
from alertcommons.settings import Settings
from alertcommons.store import alerts as alert_queries
from alertcommons.store import feed_sources, orgs
from alertcommons.store.engine import Store

log = logging.getLogger("alertcommons.cap_sources")

FEED_PARAMETER = "AlertCommons:feed"
FEED_LIMITS = ReadLimits(max_bytes=2 * 1024 * 1024, max_depth=16)
ALERT_LIMITS = ReadLimits(max_bytes=1024 * 1024, max_depth=64)
MAX_BACKOFF_SECONDS = 600.0
MAX_WARNINGS = 20
SAVE_EVERY_SECONDS = 30.0


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
class SourceHealth:
    """What an operator needs to see of one source."""

    last_fetch_at: str | None = None
    last_duration_ms: float | None = None
    last_result: str | None = None  # ok | not-modified | error
    last_error: str | None = None
    failures: int = 0
    fetches: int = 0
    published: int = 0
    duplicates: int = 0
    refused: int = 0
    without_areas: int = 0
    warnings: list[str] = field(default_factory=list)

    @classmethod
    def from_saved(cls, saved: dict[str, Any]) -> SourceHealth:
        health = cls()
        for name, default in vars(cls()).items():
            value = saved.get(name, default)
            if isinstance(value, type(default)) or (default is None and value is not None):
                setattr(health, name, value)
        health.warnings = [str(w) for w in health.warnings][-MAX_WARNINGS:]
        return health

    def snapshot(self) -> tuple[Any, ...]:
        """What an operator reads, without what changes on every poll."""
        quiet = ("last_fetch_at", "last_duration_ms", "fetches")
        return tuple(
            v if not isinstance(v, list) else tuple(v)
            for k, v in vars(self).items()
            if k not in quiet
        )

    def warn(self, text: str) -> None:
        stamp = datetime.now(UTC).isoformat(timespec="seconds")
        self.warnings.append(f"{stamp} {text[:300]}")
        del self.warnings[:-MAX_WARNINGS]


@dataclass
class _State:
    source: CapSource
    fetcher: Fetcher
    health: SourceHealth = field(default_factory=SourceHealth)
    etag: str | None = None
    entries: list[Entry] = field(default_factory=list)  # as the feed last listed them
    handled: set[str] = field(default_factory=set)
    saved: tuple[Any, ...] = ()  # the health as last saved
    saved_at: float = 0.0


class CapIngest:
    def __init__(
        self,
        store: Store,
        publisher: Publisher,
        sources: list[CapSource],
        interval: float,
        limits: FetchLimits | None = None,
    ) -> None:
        self.store = store
        self.publisher = publisher
        self.interval = interval
        self.states = {
            s.name: _State(s, Fetcher(LinkPolicy(s.url, s.allowed_hosts), limits)) for s in sources
        }
        self._tasks: list[asyncio.Task[None]] = []
        self.problem: str | None = None  # why no source runs, if none does

    @classmethod
    def from_settings(cls, store: Store, publisher: Publisher, settings: Settings) -> CapIngest:
        """The configured sources; a configuration that cannot be used is reported (in the
        log and in /api/v1/feeds/sources), never a hub that will not start."""
        limits = FetchLimits(
            read_seconds=settings.jma_read_seconds, total_seconds=settings.jma_fetch_seconds
        )
        try:
            sources = sources_from_settings(settings)
        except SourceError as exc:
            ingest = cls(store, publisher, [], settings.cap_source_poll_seconds, limits)
            ingest.problem = str(exc)
            log.warning("CAP sources not started: %s", exc)
            return ingest
        return cls(store, publisher, sources, settings.cap_source_poll_seconds, limits)

    async def start(self) -> None:
        await self.restore()
        self._tasks = [asyncio.create_task(self._run(state)) for state in self.states.values()]

    async def restore(self) -> None:
        """Take up each source's health as the database kept it (before a restart)."""
        try:
            saved = await self.store.read(lambda c: feed_sources.load(c, "cap"))
        except Exception as exc:  # never a reason not to read the sources
            log.warning("CAP sources' saved health unreadable: %s", exc)
            return
        for name, state in self.states.items():
            if name in saved:
                state.health = SourceHealth.from_saved(saved[name])
                state.saved = state.health.snapshot()

    async def _save(self, state: _State) -> None:
        """Keep the health in the database when something an operator reads changed (or
        every half minute), not on every quiet poll."""
        snapshot = state.health.snapshot()
        now = time.monotonic()
        if snapshot == state.saved and now - state.saved_at < SAVE_EVERY_SECONDS:
            return
        health = dict(vars(state.health))
        try:
            await self.store.write(lambda c: feed_sources.save(c, state.source.name, "cap", health))
        except Exception as exc:
            log.warning("CAP source %s: health not saved: %s", state.source.name, exc)
            return
        state.saved, state.saved_at = snapshot, now

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []

    def status(self) -> list[dict[str, Any]]:
        return [
            {
                "name": s.source.name,
                "kind": "cap",
                "url": s.source.url,
                "organization": s.source.organization,
                "signed_only": not s.source.allow_unsigned,
                **vars(s.health),
                "warnings": list(s.health.warnings),
            }
            for s in self.states.values()
        ]

    async def _run(self, state: _State) -> None:
        while True:
            started = time.monotonic()
            health = state.health
            health.fetches += 1
            health.last_fetch_at = datetime.now(UTC).isoformat(timespec="seconds")
            try:
                health.last_result = await self.poll(state)
                health.last_error = None
                health.failures = 0
                delay = self.interval
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                health.failures += 1
                health.last_result = "error"
                health.last_error = (str(exc) or type(exc).__name__)[:300]
                health.warn(f"feed refused: {health.last_error}")
                delay = min(self.interval * 2**health.failures, MAX_BACKOFF_SECONDS)
                log.warning("CAP source %s failed (%s)", state.source.name, health.last_error)
            health.last_duration_ms = round((time.monotonic() - started) * 1000, 1)
            await self._save(state)
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

    async def _take_entries(self, state: _State, result: str) -> str:
        for entry in state.entries:
            if entry.id in state.handled:
                continue
            try:
                await self._take(state, entry)
            except asyncio.CancelledError:
                raise
            except FetchRefused as exc:
                state.health.refused += 1
                state.health.warn(f"{entry.url}: {exc}")
            except Exception as exc:  # this entry only: the next poll tries it again
                state.health.warn(f"{entry.url}: {str(exc) or type(exc).__name__}")
                continue
            state.handled.add(entry.id)
        return result

    async def _take(self, state: _State, entry: Entry) -> None:
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
            health.refused += 1
            health.warn(f"{entry.url}: not CAP: {exc}")
            return
        checked = verify(parsed.element, list(source.certificates))
        unsigned = checked.signature == "absent"
        trusted = checked.holds and checked.certificate == "trusted"
        if not trusted and not (unsigned and source.allow_unsigned):
            health.refused += 1
            reason = "; ".join(checked.errors[:2]) or f"certificate {checked.certificate}"
            health.warn(f"{parsed.alert.identifier}: signature refused: {reason}")
            return
        alert = _marked(parsed.alert, source.name)
        if not any(a.geocodes or a.polygons or a.circles for i in alert.infos for a in i.areas):
            health.without_areas += 1
            health.warn(f"{alert.identifier}: no usable area (no code, polygon or circle)")
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
            health.refused += 1
            health.warn(f"{alert.identifier}: refused: {exc}")
            return
        if outcome.created:
            health.published += 1
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
