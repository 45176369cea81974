"""Publishing: parse → validate → authorize → sign → store, in that order.

The caller is answered only after the store's commit: an accepted alert is never lost. A
refused attempt (wrong sender, outside the jurisdiction, someone else's alert) is recorded in
the audit log before the refusal goes out.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import json
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, TypeVar

from lxml import etree
from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from alertcommons.auth.jurisdiction import OutsideJurisdiction, check_area
from alertcommons.auth.principal import Principal
from alertcommons.cap import (
    Alert,
    CapJSONError,
    CapReadError,
    from_json,
    read_alert,
    to_json,
    to_xml,
    validate,
)
from alertcommons.cap.lenient import canonicalize
from alertcommons.cap.model import (
    CERTAINTIES,
    SEVERITIES,
    URGENCIES,
    parse_references,
    strip_envelope,
)
from alertcommons.cap.reader import ParsedAlert, Problem
from alertcommons.cap.values import parse_datetime
from alertcommons.cap.xmlsafe import DEFAULT_MAX_BYTES, ReadLimits
from alertcommons.delivery.matching import facts_of
from alertcommons.hub import approval, refusals
from alertcommons.hub.admission import Admission
from alertcommons.hub.signer import HubKey
from alertcommons.jp import national
from alertcommons.problems import (
    BadRequest,
    Conflict,
    Forbidden,
    InvalidAlert,
    ProblemError,
    Unprocessable,
    UnsupportedMediaType,
)
from alertcommons.store import alerts as alert_queries
from alertcommons.store import audit
from alertcommons.store.engine import Store
from alertcommons.store.ids import new_id

VALIDATION_WORKERS = 2
# A body up to this size is parsed, validated, checked and signed on the event loop: that is
# well under a millisecond, where each hop to the validation worker costs a thread hand-off
# and, on a busy hub, waits of up to the interpreter's switch interval (5 ms) for the GIL
# between the loop and the worker — the hops were most of a publish's latency. A bigger
# body (long texts, many-vertex polygons) still goes to the worker, so it cannot stall the
# loop.
INLINE_BYTES = 16 * 1024
_T = TypeVar("_T")
log = logging.getLogger(__name__)
XML_TYPES = ("application/cap+xml", "application/xml", "text/xml")
JSON_TYPES = ("application/json",)

# Writes the outbox rows for alerts inside their transaction; returns how many for each.
Outbox = Callable[[Connection, list[alert_queries.NewAlert]], list[int]]

# The endpoint ids an alert would go to (facts, msgType, referenced alert ids): the outbox's
# own rule, asked by the dry run so a preview counts what publishing delivers.
Targets = Callable[[Connection, Any, str, Sequence[str]], set[str]]


def no_targets(connection: Connection, facts: Any, msg_type: str, refs: Sequence[str]) -> set[str]:
    return set()


@dataclass(frozen=True, slots=True)
class Check:
    """What publishing an alert would do: the problems that would refuse it, and the
    endpoints it would be delivered to."""

    problems: list[str]
    receivers: list[str]


def no_outbox(connection: Connection, batch: list[alert_queries.NewAlert]) -> list[int]:
    return [0] * len(batch)


@dataclass(frozen=True, slots=True)
class Published:
    created: bool
    alert_id: str
    identifier: str
    sender: str
    sent: str
    deliveries: int


def parse_body(body: bytes, content_type: str, max_bytes: int) -> Alert:
    media = content_type.split(";", 1)[0].strip().lower()
    if media in XML_TYPES:
        try:
            return strip_envelope(read_alert(body, ReadLimits(max_bytes=max_bytes)).alert)
        except CapReadError as exc:
            problem = {"path": "document", "message": str(exc)}
            raise InvalidAlert(str(exc), errors=[problem]) from None
    if media in JSON_TYPES:
        try:
            document = json.loads(body)
        except (ValueError, RecursionError) as exc:
            raise BadRequest(f"the body is not valid JSON: {exc}") from None
        try:
            return from_json(document)
        except CapJSONError as exc:
            problem = {"path": exc.path, "message": exc.message}
            raise InvalidAlert(str(exc), errors=[problem]) from None
    raise UnsupportedMediaType(
        f"send CAP XML ({', '.join(XML_TYPES)}) or its JSON form (application/json),"
        f" not '{media or 'no content type'}'"
    )


_Item = tuple[Principal, alert_queries.NewAlert]
_ACTIONS = {"Alert": "alert.publish", "Update": "alert.update", "Cancel": "alert.cancel"}


def _audit_detail(record: alert_queries.NewAlert, deliveries: int) -> dict[str, Any]:
    return {
        "sender": record.sender,
        "identifier": record.identifier,
        "msgType": record.msg_type,
        "status": record.status,
        "areas": list(record.area_codes),
        "references": list(record.references),
        "content_hash": record.content_hash,
        "deliveries": deliveries,
    }


class Publisher:
    def __init__(
        self,
        store: Store,
        key: HubKey,
        *,
        outbox: Outbox = no_outbox,
        targets: Targets = no_targets,
        max_bytes: int = DEFAULT_MAX_BYTES,
        admission: Admission | None = None,
    ) -> None:
        self.admission = admission or Admission()
        # Its own small pool: validation waits neither for nor on delivery or hashing work.
        self._worker = ThreadPoolExecutor(VALIDATION_WORKERS, thread_name_prefix="validate")
        self.store = store
        self.key = key
        self.outbox = outbox
        self.targets = targets
        self.max_bytes = max_bytes
        self.listeners: list[Callable[[Published], None]] = []
        self.not_stored: list[Callable[[str], None]] = []  # alert id of a failed write

    async def parse(self, body: bytes, content_type: str, max_bytes: int) -> Alert:
        """:func:`parse_body`; a big document in the validation worker, so that it never
        blocks the loop."""
        if len(body) <= INLINE_BYTES:
            return parse_body(body, content_type, max_bytes)
        return await self._in_worker(parse_body, body, content_type, max_bytes)

    async def publish(
        self,
        principal: Principal,
        alert: Alert,
        *,
        approved: bool = False,
        size: int | None = None,
    ) -> Published:
        """``approved``: a second person approved this (a console draft); otherwise an
        organization that requires approval is refused (``hub/approval.py``). ``size``: the
        bytes the alert came in, if known; a small alert is checked on the loop."""
        # Parsing, validation, jurisdiction geometry and signing are CPU work that grows with
        # the alert; unless the alert is known to be small they run in the validation worker
        # so that one big alert cannot stall the event loop (and /healthz, streams, every
        # other request) while it is checked.
        inline = size is not None and size <= INLINE_BYTES
        unsigned = await self._cpu(inline, self._validated, alert)
        await self._authorize(principal, alert)
        if not approved:
            await approval.check(self.store, principal, alert)
        activation = national.requests_activation(alert)
        imitation = national.imitation(alert)
        if imitation and not principal.jurisdiction.national:
            raise await self._refuse(principal, alert, _national_only(imitation))
        try:
            area_codes = await self._cpu(inline, self._check_areas, principal, alert)
        except OutsideJurisdiction as exc:
            raise await self._refuse(principal, alert, exc.message) from None
        references = await self._resolve_references(principal, alert)

        record = await self._cpu(
            inline, self._signed_record, principal, alert, unsigned, area_codes, references
        )
        if activation:  # allowed above: the issuer is national
            record = replace(record, activation=True)
        try:
            published = await self._store(principal, record)
        except IntegrityError:
            # Another writer (thread or hub node) stored the same (sender, identifier) between
            # our check and our insert; it has committed now, so answer as for a repeat.
            existing = await self.store.read(
                lambda c: alert_queries.find(c, record.sender, record.identifier)
            )
            if existing is None:
                raise
            return self._repeat(existing, record.content_hash)
        if published.created:
            for listener in self.listeners:
                try:
                    listener(published)
                except Exception:
                    # The alert is committed: the caller must hear so, and later listeners
                    # (dispatcher wake-up, live streams) must still run.
                    log.exception("a publish listener failed for alert %s", published.alert_id)
        return published

    async def _store(self, principal: Principal, record: alert_queries.NewAlert) -> Published:
        try:
            return await self.store.write_batched(self, (principal, record))
        except BaseException:
            for forget in self.not_stored:  # what was readied for it (delivery room) goes back
                forget(record.id)
            raise

    async def check(self, principal: Principal, alert: Alert) -> Check:
        """A dry run of ``publish``: the same checks, collected instead of raised, and whom it
        would reach (earlier recipients of an Update or Cancel included). Nothing is signed,
        stored or audited. The console's preview shows this."""
        problems: list[str] = []
        try:
            await self._in_worker(self._validated, alert)
        except InvalidAlert as exc:
            errors = exc.extensions.get("errors") or []
            problems += [f"{e['path']}: {e['message']}" for e in errors] or [exc.detail]
        imitation = national.imitation(alert)
        if imitation and not principal.jurisdiction.national:
            problems.append(_national_only(imitation))
        try:
            await self._in_worker(self._check_areas, principal, alert)
        except OutsideJurisdiction as exc:
            problems.append(exc.message)
        references: tuple[str, ...] = ()
        try:
            await self._authorize(principal, alert, dry=True)
            references = await self._resolve_references(principal, alert, dry=True)
        except ProblemError as exc:
            problems.append(exc.detail)
        facts = facts_of(alert, issuer=principal.organization_id)
        msg_type = alert.msg_type or ""
        reached = await self.store.read(lambda c: self.targets(c, facts, msg_type, references))
        return Check(problems, sorted(reached))

    def own_record(self, principal: Principal, alert: Alert) -> alert_queries.NewAlert:
        """A validated, signed record of an alert the hub makes itself and routes itself (an
        endpoint's test delivery): no areas to check, no references, no outbox."""
        unsigned = self._validated(alert)
        return self._signed_record(principal, alert, unsigned, (), ())

    async def _cpu(self, inline: bool, function: Callable[..., _T], *args: Any) -> _T:
        if inline:
            return function(*args)
        return await self._in_worker(function, *args)

    async def _in_worker(self, function: Callable[..., _T], *args: Any) -> _T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._worker, functools.partial(function, *args))

    def _validated(self, alert: Alert) -> bytes:
        """The alert's XML, once it is valid CAP and admissible; raise 422 otherwise.

        The alert is first put in the one form the hub writes (``cap/lenient.py``): what CAP
        allows and real services send (an empty optional element) is accepted, and the
        stored, signed XML carries none of it."""
        canonicalize(alert)
        limits = self.admission.limits(alert)
        if limits:  # before anything costly is done with an oversized alert
            raise InvalidAlert(
                f"{len(limits)} problem(s) found; see 'errors'",
                errors=[{"path": p.path, "message": p.message} for p in limits],
            )
        # One serialization serves the size check, the schema, the content hash and signing.
        try:
            unsigned = to_xml(alert)
        except ValueError:  # built from JSON or forms: text XML cannot carry
            raise InvalidAlert(
                "the alert holds characters XML cannot carry (control characters)",
                errors=[{"path": "alert", "message": "control characters are not allowed"}],
            ) from None
        element = etree.fromstring(unsigned)
        report = validate(ParsedAlert(alert=alert, version="1.2", element=element))
        if len(unsigned) > self.max_bytes:
            report.errors.append(Problem("alert", f"alert is over {self.max_bytes:,} bytes"))
        if not report.errors:
            report.errors.extend(self.admission.problems(alert))
        if report.errors:
            raise InvalidAlert(
                f"{len(report.errors)} problem(s) found; see 'errors'",
                errors=[{"path": p.path, "message": p.message} for p in report.errors],
            )
        return unsigned

    def _signed_record(
        self,
        principal: Principal,
        alert: Alert,
        unsigned: bytes,
        area_codes: tuple[str, ...],
        references: tuple[str, ...],
    ) -> alert_queries.NewAlert:
        # Parsed again here rather than handed over: lxml trees are best kept to one thread.
        element = etree.fromstring(unsigned)
        content_hash = hashlib.sha256(unsigned).hexdigest()
        signed = etree.tostring(
            self.key.signing.sign(element), xml_declaration=True, encoding="UTF-8"
        )
        return _new_record(principal, alert, content_hash, signed, area_codes, references)

    def write_one(self, connection: Connection, item: _Item) -> Published:
        outcome = self.write_many(connection, [item])[0]
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    def write_many(self, connection: Connection, items: list[_Item]) -> list[Published | Exception]:
        """Store a batch of signed alerts: one set of statements, one audit append."""
        existing: dict[tuple[str, str], Any] = alert_queries.find_many(
            connection, [(record.sender, record.identifier) for _, record in items]
        )
        outcomes: list[Published | Exception | None] = []
        fresh: list[_Item] = []
        for principal, record in items:
            key = (record.sender, record.identifier)
            prior = existing.get(key)
            if prior is not None:  # stored before, or earlier in this very batch
                try:
                    outcomes.append(self._repeat(prior, record.content_hash))
                except Conflict as conflict:
                    outcomes.append(conflict)
                continue
            existing[key] = record
            fresh.append((principal, record))
            outcomes.append(None)
        records = [record for _, record in fresh]
        alert_queries.insert_alerts(connection, records)
        deliveries = self.outbox(connection, records)
        audit.append_many(
            connection,
            [
                audit.Entry(
                    principal.actor,
                    _ACTIONS.get(record.msg_type, "alert.publish"),
                    record.id,
                    _audit_detail(record, count),
                )
                for (principal, record), count in zip(fresh, deliveries, strict=True)
            ],
        )
        published = iter(
            Published(True, r.id, r.identifier, r.sender, r.sent_text, count)
            for r, count in zip(records, deliveries, strict=True)
        )
        return [outcome if outcome is not None else next(published) for outcome in outcomes]

    @staticmethod
    def _repeat(existing: Any, content_hash: str) -> Published:
        if existing.content_hash == content_hash:
            return Published(
                False, existing.id, existing.identifier, existing.sender, existing.sent_text, 0
            )
        raise Conflict(
            f"alert {existing.identifier} from {existing.sender} was already published with"
            " different content; publish an Update with a new identifier instead",
            alert_id=existing.id,
        )

    async def _refuse(
        self, principal: Principal, alert: Alert, reason: str, *, dry: bool = False
    ) -> Forbidden:
        if dry:  # a dry run records nothing
            return Forbidden(reason)
        await refusals.record(self.store, principal, alert, reason)
        return Forbidden(reason)

    async def _authorize(self, principal: Principal, alert: Alert, *, dry: bool = False) -> None:
        if "issuer" not in principal.roles:
            raise await self._refuse(principal, alert, "this token may not publish alerts", dry=dry)
        if principal.sender is None or alert.sender != principal.sender:
            raise await self._refuse(
                principal,
                alert,
                f"your organization publishes as sender '{principal.sender}', not '{alert.sender}'",
                dry=dry,
            )

    def _check_areas(self, principal: Principal, alert: Alert) -> tuple[str, ...]:
        codes: list[str] = []
        shapes = sum(len(a.polygons) + len(a.circles) for i in alert.infos for a in i.areas)
        for i, info in enumerate(alert.infos, start=1):
            for j, area in enumerate(info.areas, start=1):
                path = f"alert/info[{i}]/area[{j}]"
                codes.extend(check_area(principal.jurisdiction, area, path, shapes_in_alert=shapes))
        return tuple(dict.fromkeys(codes))

    async def _resolve_references(
        self, principal: Principal, alert: Alert, *, dry: bool = False
    ) -> tuple[str, ...]:
        if alert.msg_type not in ("Update", "Cancel") or not alert.references:
            return ()
        ids: list[str] = []
        for reference in parse_references(alert.references):
            row = await self.store.read(
                lambda c, r=reference: alert_queries.find(c, r.sender, r.identifier)  # type: ignore[misc]
            )
            if row is None:
                if reference.sender != principal.sender:
                    raise await self._refuse(
                        principal,
                        alert,
                        f"references an alert of sender '{reference.sender}';"
                        f" a {alert.msg_type} may only refer to your own alerts",
                        dry=dry,
                    )
                raise Unprocessable(
                    f"references alert {reference.identifier} from {reference.sender},"
                    " which this hub does not hold",
                    path="alert/references",
                )
            if row.sender != principal.sender or row.organization_id != principal.organization_id:
                raise await self._refuse(
                    principal,
                    alert,
                    f"alert {reference.identifier} belongs to sender '{row.sender}';"
                    f" you cannot {alert.msg_type.lower()} another sender's alert",
                    dry=dry,
                )
            ids.append(row.id)
        return tuple(dict.fromkeys(ids))


def _most_pressing(values: list[str | None], order: tuple[str, ...]) -> str | None:
    ranked = [v for v in values if v in order]
    return min(ranked, key=order.index) if ranked else None


def _new_record(
    principal: Principal,
    alert: Alert,
    content_hash: str,
    signed: bytes,
    area_codes: tuple[str, ...],
    references: tuple[str, ...],
) -> alert_queries.NewAlert:
    sent_text = (alert.sent or "").strip()
    sent = parse_datetime(sent_text).astimezone(UTC)
    effectives = [parse_datetime(i.effective.strip()) for i in alert.infos if i.effective]
    expiries = [parse_datetime(i.expires.strip()) for i in alert.infos if i.expires]
    open_ended = not alert.infos or any(not i.expires for i in alert.infos)
    return alert_queries.NewAlert(
        id=new_id(),
        organization_id=principal.organization_id,
        sender=alert.sender or "",
        identifier=alert.identifier or "",
        sent=sent,
        sent_text=sent_text,
        status=alert.status or "",
        msg_type=alert.msg_type or "",
        scope=alert.scope or "",
        effective=min(effectives).astimezone(UTC) if effectives else sent,
        expires=None if open_ended else max(expiries).astimezone(UTC),
        urgency=_most_pressing([i.urgency for i in alert.infos], URGENCIES),
        severity=_most_pressing([i.severity for i in alert.infos], SEVERITIES),
        certainty=_most_pressing([i.certainty for i in alert.infos], CERTAINTIES),
        content_hash=content_hash,
        cap_xml=signed,
        cap_json=json.dumps(to_json(alert), ensure_ascii=False),
        received_at=datetime.now(UTC),
        area_codes=area_codes,
        references=references,
        facts=facts_of(alert, issuer=principal.organization_id),
    )


def _national_only(imitation: str) -> str:
    return (
        "only a national issuer may send national warnings or ask for loudspeaker"
        f" activation: {imitation}"
    )
