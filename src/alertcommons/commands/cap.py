"""``alertcommons cap``: validate, verify, convert and sign CAP files."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
from cryptography import x509
from lxml import etree

from alertcommons.cap import (
    CapJSONError,
    CapReadError,
    ParsedAlert,
    ReadLimits,
    from_json,
    read_alert,
    read_alerts,
    to_json,
    to_xml,
    validate,
    verify,
)
from alertcommons.cap.certificates import load_certificates_pem
from alertcommons.cap.jsonmap import SIGNED_XML
from alertcommons.cap.signing import SigningKey
from alertcommons.cap.validate import Report
from alertcommons.cap.values import CapValueError, parse_datetime
from alertcommons.cap.writer import to_element
from alertcommons.cap.xmlsafe import DEFAULT_MAX_BYTES
from alertcommons.errors import AlertCommonsError

_FILE = click.Path(dir_okay=False, path_type=Path)

# Exit statuses of ``validate`` and ``verify`` (docs/cap.md): a file that holds no alert at all
# (empty, unreadable, an Atom feed, a refused DTD) is not the same answer as an alert that is
# invalid or whose signature fails, and a script must be able to tell them apart.
EXIT_OK = 0
EXIT_FAILED = 1  # an alert is invalid / not verified
EXIT_UNREADABLE = 4  # a file is not a CAP alert or could not be read (2: usage, 3: internal)


def _exit_status(outcomes: list[str], good: str) -> int:
    if "unreadable" in outcomes:
        return EXIT_UNREADABLE
    return EXIT_OK if all(outcome == good for outcome in outcomes) else EXIT_FAILED


@click.group()
def cap() -> None:
    """Work with CAP 1.2 alert files (CAP 1.0/1.1 and EDXL-DE envelopes are read too)."""


def _read_bytes(path: Path, limit: int) -> bytes:
    """Read at most ``limit`` + 1 bytes: an oversized file is refused without loading it."""
    try:
        with path.open("rb") as handle:
            data = handle.read(limit + 1)
    except OSError as exc:
        raise CapReadError(f"cannot open {path}: {exc.strerror}") from None
    if len(data) > limit:
        raise CapReadError(f"file is over the limit of {limit:,} bytes")
    return data


def _load(path: Path, limit: int) -> list[ParsedAlert]:
    data = _read_bytes(path, limit)
    if data.lstrip()[:1] in (b"{", b"["):
        return _from_json_bytes(data)
    return read_alerts(data, ReadLimits(max_bytes=limit))


def _from_json_bytes(data: bytes) -> list[ParsedAlert]:
    try:
        document = json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise CapReadError(f"not valid JSON: {exc}") from None
    documents = document if isinstance(document, list) else [document]
    parsed = []
    for number, item in enumerate(documents):
        where = f"item {number}: " if isinstance(document, list) else ""
        try:
            alert = from_json(item)
        except CapJSONError as exc:
            raise CapReadError(f"{where}{exc}") from None
        signed_xml = item.get(SIGNED_XML) if isinstance(item, dict) else None
        if signed_xml is None:
            parsed.append(ParsedAlert(alert=alert, version="1.2", element=to_element(alert)))
            continue
        # The signature is over the XML: the JSON is that alert only if its members say
        # exactly what the signed XML says.
        signed = read_alert(signed_xml.encode())
        if to_json(signed.alert) != to_json(alert):
            raise CapReadError(f"{where}the JSON members differ from its {SIGNED_XML}")
        parsed.append(signed)
    return parsed


def _problems(report: Report) -> dict[str, Any]:
    return {
        "errors": [{"path": p.path, "message": p.message} for p in report.errors],
        "warnings": [{"path": p.path, "message": p.message} for p in report.warnings],
    }


@cap.command("validate")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per alert per line.")
@click.option(
    "--max-bytes",
    type=click.IntRange(min=1),
    default=DEFAULT_MAX_BYTES,
    show_default=True,
    help="Largest file accepted.",
)
@click.option(
    "--strict",
    is_flag=True,
    help="Treat warnings (among them the leniencies listed in docs/cap.md) as errors.",
)
@click.argument("files", nargs=-1, required=True, type=_FILE)
def validate_command(files: tuple[Path, ...], as_json: bool, max_bytes: int, strict: bool) -> None:
    """Check each alert against the CAP 1.2 schema and rules.

    Exit 0 iff all are valid; 1 if an alert is invalid; 4 if a file is not a CAP alert or
    could not be read (it wins over 1). With --strict, warnings count as errors."""
    outcomes: list[str] = []
    for path in files:
        for line in _validate_file(path, max_bytes, strict=strict):
            outcomes.append(line["outcome"])
            if as_json:
                click.echo(json.dumps(line, ensure_ascii=False))
            else:
                _print_validation(line)
    sys.exit(_exit_status(outcomes, "valid"))


def _validate_file(path: Path, max_bytes: int, *, strict: bool) -> Iterator[dict[str, Any]]:
    try:
        alerts = _load(path, max_bytes)
    except CapReadError as exc:
        yield {
            "file": str(path),
            "index": 0,
            "outcome": "unreadable",
            "valid": False,
            "version": None,
            "identifier": None,
            "errors": [{"path": "document", "message": str(exc)}],
            "warnings": [],
            "notes": [],
        }
        return
    for index, parsed in enumerate(alerts):
        report = validate(parsed, max_bytes=max_bytes, strict=strict)
        yield {
            "file": str(path),
            "index": index,
            "outcome": "valid" if report.valid else "invalid",
            "valid": report.valid,
            "version": parsed.version,
            "identifier": parsed.alert.identifier,
            **_problems(report),
            "notes": parsed.notes,
        }


def _print_validation(line: dict[str, Any]) -> None:
    where = line["file"] if line["index"] == 0 else f"{line['file']}#{line['index']}"
    if line["outcome"] == "unreadable":
        click.echo(f"{where}: UNREADABLE: not a CAP alert, or it could not be read")
    else:
        verdict = "valid" if line["valid"] else "INVALID"
        identifier = line["identifier"] or "(no identifier)"
        click.echo(f"{where}: {verdict} CAP {line['version']} alert {identifier}")
    for error in line["errors"]:
        click.echo(f"  error   {error['path']}: {error['message']}")
    for warning in line["warnings"]:
        click.echo(f"  warning {warning['path']}: {warning['message']}")
    for note in line["notes"]:
        click.echo(f"  note    {note}")


@cap.command("verify")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per alert per line.")
@click.option(
    "--cert",
    "certs",
    multiple=True,
    type=_FILE,
    help="PEM certificate(s) to trust; repeat for several.",
)
@click.option(
    "--at",
    "at_text",
    default="now",
    show_default=True,
    help="When certificates must be valid: 'now', 'sent' (the alert's time) or a CAP date-time.",
)
@click.argument("files", nargs=-1, required=True, type=_FILE)
def verify_command(
    files: tuple[Path, ...], certs: tuple[Path, ...], at_text: str, as_json: bool
) -> None:
    """Check XML signatures; exit 0 iff every alert's signature holds and, when certificates
    are given with --cert, every signer's certificate is trusted by one of them; 1 if one
    does not; 4 if a file is not a CAP alert or could not be read (it wins over 1)."""
    trusted = _trusted(certs)
    outcomes: list[str] = []
    for path in files:
        for line in _verify_file(path, trusted, at_text):
            # A signature that holds under a certificate nobody vouches for proves nothing:
            # anyone can make a key and a certificate that copies the hub's name.
            line["verified"] = line["signature"] == "valid" and (
                not trusted or line["certificate"] == "trusted"
            )
            if line["outcome"] is None:
                line["outcome"] = "verified" if line["verified"] else "not verified"
            outcomes.append(line["outcome"])
            if as_json:
                click.echo(json.dumps(line, ensure_ascii=False))
            else:
                _print_verification(line)
    sys.exit(_exit_status(outcomes, "verified"))


def _trusted(paths: tuple[Path, ...]) -> list[x509.Certificate]:
    trusted: list[x509.Certificate] = []
    for path in paths:
        try:
            trusted.extend(load_certificates_pem(path))
        except (OSError, ValueError) as exc:
            raise click.BadParameter(f"{path}: {exc}", param_hint="--cert") from None
    return trusted


def _moment(at_text: str, parsed: ParsedAlert) -> datetime:
    if at_text == "now":
        return datetime.now(UTC)
    text = parsed.alert.sent if at_text == "sent" else at_text
    try:
        return parse_datetime((text or "").strip())
    except CapValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--at") from None


def _verify_file(
    path: Path, trusted: list[x509.Certificate], at_text: str
) -> Iterator[dict[str, Any]]:
    try:
        data = _read_bytes(path, DEFAULT_MAX_BYTES)
        # JSON is checked through the signed XML it carries (signedXml), if any.
        json_input = data.lstrip()[:1] in (b"{", b"[")
        alerts = _from_json_bytes(data) if json_input else read_alerts(data)
    except CapReadError as exc:
        yield {  # no alert to check: saying "signature invalid" would accuse a forger
            "file": str(path),
            "index": 0,
            "outcome": "unreadable",
            "signature": None,
            "certificate": None,
            "signer": None,
            "errors": [str(exc)],
            "signatures": [],
        }
        return
    for index, parsed in enumerate(alerts):
        result = verify(parsed.element, trusted, at=_moment(at_text, parsed))
        yield {
            "file": str(path),
            "index": index,
            "outcome": None,  # set by the caller, which knows what is trusted
            "signature": result.signature,
            "certificate": result.certificate,
            "signer": result.signer,
            "errors": result.errors,
            "signatures": [
                {
                    "signature": check.signature,
                    "certificate": check.certificate,
                    "signer": check.signer,
                    "errors": check.errors,
                    "notes": check.notes,
                }
                for check in result.checks
            ],
        }


def _print_verification(line: dict[str, Any]) -> None:
    where = line["file"] if line["index"] == 0 else f"{line['file']}#{line['index']}"
    if line["outcome"] == "unreadable":
        click.echo(f"{where}: UNREADABLE: not a CAP alert, or it could not be read")
        for error in line["errors"]:
            click.echo(f"  error: {error}")
        return
    certificate = line["certificate"] or "none"
    verdict = "VERIFIED" if line["verified"] else "NOT VERIFIED"
    click.echo(f"{where}: {verdict}: signature {line['signature']}, certificate {certificate}")
    for number, check in enumerate(line["signatures"], start=1):
        signer = check["signer"] or "no certificate"
        click.echo(f"  signature {number}: {check['signature']} ({signer})")
        for note in check["notes"]:
            click.echo(f"    note: {note}")
    for error in line["errors"]:
        click.echo(f"  error: {error}")


@cap.command("convert")
@click.option("--to", "target", type=click.Choice(["json", "xml"]), required=True)
@click.argument("file", type=_FILE)
def convert_command(file: Path, target: str) -> None:
    """Print an alert in the other form: CAP XML ↔ the JSON mapping."""
    alerts = _load(file, DEFAULT_MAX_BYTES)
    for parsed in alerts:
        for problem in validate(parsed).errors:
            click.echo(f"warning: not valid CAP: {problem.path}: {problem.message}", err=True)
    if target == "json":
        documents = []
        for parsed in alerts:
            document = to_json(parsed.alert)
            if parsed.signed:  # the signature travels with the JSON: the signed XML itself
                document[SIGNED_XML] = etree.tostring(parsed.element, encoding="unicode")
            documents.append(document)
        output = documents[0] if len(documents) == 1 else documents
        click.echo(json.dumps(output, ensure_ascii=False, indent=2))
        return
    if len(alerts) != 1:
        raise CapReadError(f"{file} holds {len(alerts)} alerts; CAP XML holds one per document")
    parsed = alerts[0]
    if parsed.signed and parsed.version == "1.2":
        # The signed XML as it was signed (re-serialized from the same tree, which leaves its
        # canonical form, and so the signature, unchanged).
        signed = etree.tostring(parsed.element, xml_declaration=True, encoding="UTF-8")
        sys.stdout.buffer.write(signed + b"\n")
        return
    if parsed.signed:
        click.echo(
            f"WARNING: the XML signature is DROPPED: a CAP {parsed.version} alert is written"
            " as CAP 1.2, which its signature does not cover; keep the original to verify it",
            err=True,
        )
    sys.stdout.buffer.write(to_xml(parsed.alert))


@cap.command("sign")
@click.option("--key", "key_path", type=_FILE, required=True, help="PEM private key.")
@click.option("--cert", "cert_path", type=_FILE, required=True, help="PEM certificate (chain).")
@click.option("--allow-invalid", is_flag=True, help="Sign even if the alert is not valid CAP.")
@click.argument("file", type=_FILE)
def sign_command(file: Path, key_path: Path, cert_path: Path, allow_invalid: bool) -> None:
    """Print the alert with an enveloped XML signature (RSA- or ECDSA-SHA256)."""
    try:
        key = SigningKey(key_path.read_bytes(), cert_path.read_bytes())
    except OSError as exc:
        raise AlertCommonsError(f"cannot read key or certificate: {exc.strerror}") from None
    alerts = _load(file, DEFAULT_MAX_BYTES)
    if len(alerts) != 1:
        raise CapReadError(f"{file} holds {len(alerts)} alerts; sign them one by one")
    parsed = alerts[0]
    report = validate(parsed)
    if not report.valid and not allow_invalid:
        for problem in report.errors:
            click.echo(f"error: {problem.path}: {problem.message}", err=True)
        raise AlertCommonsError("refusing to sign an invalid alert (use --allow-invalid)")
    # A 1.2 document is signed as received; anything else is signed in its CAP 1.2 form.
    element = parsed.element if parsed.version == "1.2" and parsed.container is None else None
    if element is None:
        element = etree.fromstring(to_xml(parsed.alert))
    signed = key.sign(element)
    sys.stdout.buffer.write(etree.tostring(signed, xml_declaration=True, encoding="UTF-8") + b"\n")
