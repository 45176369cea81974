"""The CAP sources an admin adds, changes, pauses and removes at run time — each change once,
with its audit record — and the list of every source the hub reads with its health.

Shared by the API (``api/sources.py``) and the console's admin pages (``web/admin.py``).
A source is checked before it is kept: a feed's URL must be http(s) to a host the outbound
policy allows (``ALERTCOMMONS_OUTBOUND_ALLOW``; checked again on every connection, on the
address the name resolved to), a folder must lie under one the operator allowed
(``ALERTCOMMONS_CAP_SOURCE_DIRECTORIES``), the organization must be an issuer here, and the
certificates must be PEM — or the source must say it takes unsigned alerts.

Sources configured in settings (``ALERTCOMMONS_CAP_SOURCES``) are listed with
``"origin": "settings"`` and ``"editable": false``: they are the operator's, changed where they
were set, and their names cannot be taken by a source added here.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cryptography import x509
from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from alertcommons.cap.certificates import summary
from alertcommons.hub.services import Services
from alertcommons.hub.source_health import SourceHealth, saved_health
from alertcommons.problems import Conflict, Forbidden, NotFound, Unprocessable
from alertcommons.store import audit, cap_sources, orgs

MIN_POLL_SECONDS = 1.0
MAX_POLL_SECONDS = 86400.0
MAX_PEM_CHARS = 64 * 1024
MAX_ALLOWED_HOSTS = 20


def _certificates(pem: str) -> list[x509.Certificate]:
    if len(pem) > MAX_PEM_CHARS:
        raise Unprocessable(
            f"certificates: more than {MAX_PEM_CHARS:,} characters", path="certificates"
        )
    try:
        return x509.load_pem_x509_certificates(pem.encode())
    except ValueError as exc:
        raise Unprocessable(
            f"certificates: not PEM certificates ({exc})", path="certificates"
        ) from None


def certificate_summary(pem: str) -> list[dict[str, str]]:
    """Subject and SHA-256 fingerprint of each certificate, for lists and the audit log."""
    try:
        found = x509.load_pem_x509_certificates(pem.encode()) if pem.strip() else []
    except ValueError:
        return []
    return [summary(c) for c in found]


def _check_host(hub: Services, host: str, path: str) -> None:
    refusal = hub.settings.outbound_policy.refusal(host)
    if refusal is not None:
        raise Unprocessable(f"{path}: {refusal}", path=path)


def _check_directory(hub: Services, text: str) -> str:
    roots = [Path(p.strip()) for p in hub.settings.cap_source_directories.split(",") if p.strip()]
    if not roots:
        raise Forbidden(
            "this hub's operator allows no folders as sources"
            " (ALERTCOMMONS_CAP_SOURCE_DIRECTORIES)",
            path="directory",
        )
    try:
        folder = Path(text).resolve()
    except (OSError, ValueError, RuntimeError):
        raise Unprocessable(f"directory: '{text}' is not a folder", path="directory") from None
    if not any(folder == root.resolve() or root.resolve() in folder.parents for root in roots):
        raise Forbidden(
            f"directory: '{text}' is not under a folder this hub's operator allows",
            path="directory",
        )
    if not folder.is_dir():
        raise Unprocessable(f"directory: '{text}' is not a folder", path="directory")
    return str(folder)


def _storable(values: dict[str, Any]) -> None:
    """Text the database and the file system can take: UTF-8, no NUL."""
    for key, value in values.items():
        for text in value if isinstance(value, list) else [value]:
            if not isinstance(text, str):
                continue
            try:
                text.encode("utf-8")
            except UnicodeEncodeError:
                raise Unprocessable(f"{key}: not valid UTF-8 text", path=key) from None
            if "\x00" in text:
                raise Unprocessable(f"{key}: NUL characters are not allowed", path=key)


def checked(hub: Services, values: dict[str, Any]) -> dict[str, Any]:
    """A whole source's values, checked and normalized; a problem (4xx) says what is wrong."""
    _storable(values)
    name = str(values.get("name") or "").strip()
    if not name or len(name) > 128 or any(ord(ch) < 32 for ch in name):
        raise Unprocessable("name: 1 to 128 characters, no control characters", path="name")
    if name.startswith("jma:"):
        raise Unprocessable("name: 'jma:' names the JMA feeds", path="name")
    if hub.cap_sources is not None and name in hub.cap_sources.fixed:
        raise Conflict(f"name: '{name}' is a source configured in settings", path="name")
    url = str(values.get("url") or "").strip()
    directory = str(values.get("directory") or "").strip()
    if bool(url) == bool(directory):
        raise Unprocessable("give either 'url' (an Atom or RSS feed of CAP) or 'directory'")
    hosts = [str(h).strip().lower() for h in values.get("allowed_hosts") or [] if str(h).strip()]
    if len(hosts) > MAX_ALLOWED_HOSTS:
        raise Unprocessable(f"allowed_hosts: at most {MAX_ALLOWED_HOSTS}", path="allowed_hosts")
    if url:
        try:
            parts = urlsplit(url)
            parts.port  # noqa: B018 - a port out of range raises here, not at the first fetch
        except ValueError:
            raise Unprocessable("url: not a URL", path="url") from None
        if len(url) > 2000 or parts.scheme not in ("http", "https") or not parts.hostname:
            raise Unprocessable("url: an http(s) URL of an Atom or RSS feed of CAP", path="url")
        if parts.username is not None or parts.password is not None:
            raise Unprocessable("url: no credentials in the URL", path="url")
        _check_host(hub, parts.hostname, "url")
        for host in hosts:
            _check_host(hub, host, "allowed_hosts")
    else:
        directory = _check_directory(hub, directory)
        hosts = []
    pem = str(values.get("certificates") or "").strip()
    if pem:
        _certificates(pem)
    allow_unsigned = values.get("allow_unsigned") is True
    if not pem and not allow_unsigned:
        raise Unprocessable(
            "give 'certificates' (PEM) to verify the source's alerts, or 'allow_unsigned': true",
            path="certificates",
        )
    poll = values.get("poll_seconds")
    poll = hub.settings.cap_source_poll_seconds if poll is None else poll
    if not isinstance(poll, int | float) or not MIN_POLL_SECONDS <= poll <= MAX_POLL_SECONDS:
        raise Unprocessable(
            f"poll_seconds: from {MIN_POLL_SECONDS:g} to {MAX_POLL_SECONDS:g}", path="poll_seconds"
        )
    organization = str(values.get("organization") or "").strip()
    if not organization:
        raise Unprocessable(
            "organization: the issuer its alerts are published under", path="organization"
        )
    return {
        "name": name,
        "url": url,
        "directory": directory,
        "organization": organization,
        "certificates": pem,
        "allow_unsigned": allow_unsigned,
        "allowed_hosts": hosts,
        "poll_seconds": float(poll),
        "active": values.get("active", True) is not False,
    }


def _check_issuer(connection: Connection, organization: str) -> None:
    row = orgs.get_org(connection, organization) or orgs.org_by_sender(connection, organization)
    if row is None or row.kind != "issuer":
        raise Unprocessable(
            f"organization: '{organization}' is not an issuer of this hub", path="organization"
        )


def _audited(values: dict[str, Any]) -> dict[str, Any]:
    """What the audit log keeps of a source: the certificates by fingerprint."""
    detail = {k: v for k, v in values.items() if k != "certificates"}
    if "certificates" in values:
        detail["certificates"] = [c["sha256"] for c in certificate_summary(values["certificates"])]
    return detail


def _no_source(source_id: str) -> NotFound | Conflict:
    if source_id.startswith(("settings:", "jma:")):
        return Conflict(f"'{source_id}' is configured in settings: it is changed there, not here")
    return NotFound(f"no CAP source with id '{source_id}'")


async def _reload(hub: Services) -> None:
    """This node starts or stops the source at once; the others at their next reload."""
    if hub.cap_sources is not None:
        await hub.cap_sources.reload()


async def _written(
    hub: Services, apply: Callable[[Connection], dict[str, Any]], name: str
) -> dict[str, Any]:
    """Store a source's create or change; a taken name is a conflict, and every node's
    pollers are told of the change."""
    try:
        record = await hub.store.write(apply)
    except IntegrityError:
        raise Conflict(f"name: another source is named '{name}'", path="name") from None
    await _reload(hub)
    return record


async def create(hub: Services, actor: str, values: dict[str, Any]) -> dict[str, Any]:
    wanted = checked(hub, values)

    def apply(connection: Connection) -> dict[str, Any]:
        _check_issuer(connection, wanted["organization"])
        source_id = cap_sources.create(connection, wanted)
        audit.append(
            connection,
            actor=actor,
            action="source.create",
            subject=source_id,
            detail=_audited(wanted),
        )
        record = cap_sources.get(connection, source_id)
        assert record is not None
        return record

    return await _written(hub, apply, wanted["name"])


async def update(
    hub: Services, actor: str, source_id: str, changes: dict[str, Any]
) -> dict[str, Any]:
    """Change some of a source's values; the whole source is checked again."""
    current = await hub.store.read(lambda c: cap_sources.get(c, source_id))
    if current is None:
        raise _no_source(source_id)
    merged = {**current, **changes}
    if changes.get("url"):
        merged["directory"] = ""
    elif changes.get("directory"):
        merged["url"] = ""
    wanted = checked(hub, merged)
    changed = {k: v for k, v in wanted.items() if current.get(k) != v}

    def apply(connection: Connection) -> dict[str, Any]:
        if cap_sources.get(connection, source_id) is None:
            raise _no_source(source_id)
        _check_issuer(connection, wanted["organization"])
        cap_sources.change(connection, source_id, wanted)
        audit.append(
            connection,
            actor=actor,
            action="source.update",
            subject=source_id,
            detail=_audited(changed),
        )
        record = cap_sources.get(connection, source_id)
        assert record is not None
        return record

    return await _written(hub, apply, wanted["name"])


async def delete(hub: Services, actor: str, source_id: str) -> None:
    def apply(connection: Connection) -> None:
        record = cap_sources.get(connection, source_id)
        if record is None:
            raise _no_source(source_id)
        cap_sources.remove(connection, source_id)
        audit.append(
            connection,
            actor=actor,
            action="source.delete",
            subject=source_id,
            detail={"name": record["name"]},
        )

    await hub.store.write(apply)
    await _reload(hub)


async def get(hub: Services, source_id: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = (await listing(hub))["sources"]
    for item in found:
        if item["id"] == source_id:
            return item
    raise _no_source(source_id)


async def listing(hub: Services) -> dict[str, Any]:
    """Every source the hub reads — from settings, added here, the JMA feeds — in one shape,
    with its health: this node's own where it polls the source, else as the database keeps
    it (the node polling it saves it as it changes)."""
    records, leases = await hub.store.read(
        lambda c: (cap_sources.all_sources(c), cap_sources.lease_holders(c))
    )
    saved = await saved_health(hub.store, "cap")
    ingest = hub.cap_sources
    running = {s["name"]: s for s in ingest.status()} if ingest is not None else {}
    now = datetime.now(UTC)

    def health(name: str) -> dict[str, Any]:
        here = running.get(name)
        if here is not None and here["polled_here"]:
            return {k: here[k] for k in SourceHealth().to_dict()}
        return saved.get(name, SourceHealth()).to_dict()

    def polled_by(name: str) -> str | None:
        node, until = leases.get(name, (None, now))
        return node if until > now else None

    found: list[dict[str, Any]] = []
    for name, item in running.items():
        if item["origin"] != "settings":
            continue
        found.append(
            {
                **item,
                "editable": False,
                "active": True,
                "allow_unsigned": not item["signed_only"],
                "created_at": None,
                "updated_at": None,
                "polled_by": polled_by(name),
                **health(name),
            }
        )
    for record in records:
        name = record["name"]
        if ingest is not None and name in ingest.fixed:
            continue  # a settings source of that name wins (and is listed above)
        found.append(
            {
                "id": record["id"],
                "name": name,
                "kind": "cap",
                "origin": "api",
                "editable": True,
                "active": record["active"],
                "url": record["url"],
                "directory": record["directory"] or None,
                "organization": record["organization"],
                "signed_only": not record["allow_unsigned"],
                "allow_unsigned": record["allow_unsigned"],
                "allowed_hosts": record["allowed_hosts"],
                "certificates": certificate_summary(record["certificates"]),
                "poll_seconds": record["poll_seconds"],
                "created_at": record["created_at"],
                "updated_at": record["updated_at"],
                "polled_by": polled_by(name) if record["active"] else None,
                "polled_here": bool(running.get(name, {}).get("polled_here")),
                **health(name),
            }
        )
    problems: list[str] = []
    if ingest is not None:
        if ingest.problem:
            problems.append(ingest.problem)
        problems.extend(ingest.broken.values())
    if hub.jma is not None:
        jma = hub.jma.status()
        if jma.get("problem"):
            problems.append(jma["problem"])
        found.extend(hub.jma.sources())
    return {"sources": found, "problems": problems}
