"""``alertcommons jp code`` and ``alertcommons jma convert``: Japanese codes and JMA XML."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import click

from alertcommons.cap import read_alert, to_json, to_xml, validate
from alertcommons.commands.remote import call, client, hub_options
from alertcommons.jp.codes import CodeError, normalize, registry, with_check_digit
from alertcommons.jp.jma import JMA_LIMITS, JMAError, convert, follow


@click.group("jp")
def jp_group() -> None:
    """Japanese local-government codes."""


@jp_group.command("code")
@click.argument("code")
@click.option("--json", "as_json", is_flag=True, help="Print the answer as JSON.")
def code_command(code: str, as_json: bool) -> None:
    """Say what a local-government code (2, 5 or 6 digits; 7-digit JMA city code) is."""
    text = code.strip()
    jma_city = len(text) == 7 and text.isdigit() and text.endswith("00")
    try:
        canonical = normalize(text[:5] if jma_city else text)
    except CodeError as exc:
        if as_json:
            click.echo(
                json.dumps({"code": code, "valid": False, "error": str(exc)}, ensure_ascii=False)
            )
        else:
            click.echo(f"{code}: invalid: {exc}")
        sys.exit(1)
    answer = _describe(canonical)
    answer["code"] = code
    if jma_city:
        answer["jma_city_code"] = text
    if as_json:
        click.echo(json.dumps(answer, ensure_ascii=False))
        return
    lines = [f"{code}: {answer['kind']} {answer['name']} ({answer['kana']})"]
    lines.append(f"  code {answer['code5'] or answer['code2']}, with check digit {answer['code6']}")
    if answer.get("part_of"):
        lines.append(f"  ward of {answer['part_of']}")
    if answer.get("lat") is not None:
        lines.append(f"  centroid {answer['lat']:.4f},{answer['lon']:.4f}")
    click.echo("\n".join(lines))


def _describe(canonical: str) -> dict[str, Any]:
    reg = registry()
    if len(canonical) == 2:
        prefecture = reg.prefectures[canonical]
        return {
            "valid": True,
            "kind": "prefecture",
            "name": prefecture.name,
            "kana": prefecture.kana,
            "name_en": prefecture.name_en,
            "code2": canonical,
            "code5": None,
            "code6": with_check_digit(canonical + "000"),
        }
    place = reg.municipalities[canonical]
    prefecture = reg.prefectures[place.prefecture]
    parent = reg.municipalities.get(place.parent) if place.parent else None
    return {
        "valid": True,
        "kind": "municipality",
        "name": f"{prefecture.name}{place.name}",
        "kana": place.kana,
        "code2": place.prefecture,
        "code5": canonical,
        "code6": place.code6,
        "part_of": parent.name if parent else None,
        "lat": place.lat,
        "lon": place.lon,
    }


@click.group("jma")
def jma_group() -> None:
    """JMA disaster-prevention XML."""


@jma_group.command("convert")
@click.option(
    "--to",
    "target",
    type=click.Choice(["summary", "json", "xml"]),
    default="summary",
    show_default=True,
    help="summary: a line per file; json: the CAP JSON (a list for several); xml: the CAP XML "
    "(one alert).",
)
@click.option(
    "--json", "as_json", is_flag=True, help="One JSON object per file per line (a report)."
)
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
def convert_command(files: tuple[Path, ...], target: str, as_json: bool) -> None:
    """Convert JMA reports to CAP 1.2; skip, with a reason, those that are not alerts.

    Reports of one event given together are linked: a later one references the earlier
    one's alert exactly. With --to json or xml the CAP itself is printed on standard output,
    skipped files and errors on standard error. Exit 0 iff no file had an error (a skipped
    file is not an error)."""
    if as_json and target != "summary":
        raise click.UsageError("give --json (the report) or --to json|xml (the CAP), not both")
    failed = False
    earlier: dict[str, tuple[str, str]] = {}
    converted: list[dict[str, Any]] = []
    for path in files:
        line = _convert_file(path, earlier)
        failed |= bool(line["errors"])
        if as_json:
            click.echo(json.dumps(line, ensure_ascii=False))
        elif line["errors"]:
            click.echo(f"{path}: ERROR {'; '.join(line['errors'])}", err=target != "summary")
        elif line["skipped"]:
            click.echo(f"{path}: skipped: {line['skipped']}", err=target != "summary")
        elif target == "summary":
            click.echo(f"{path}: {line['type']} → CAP {line['cap']['identifier']}")
        else:
            converted.append(line)
    if target == "json" and converted:
        documents = [line["cap"] for line in converted]
        output = documents[0] if len(documents) == 1 else documents
        click.echo(json.dumps(output, ensure_ascii=False, indent=2))
    elif target == "xml" and converted:
        if len(converted) > 1:
            raise click.UsageError(
                f"{len(converted)} alerts converted; CAP XML holds one per document "
                "(give one file, or use --to json)"
            )
        sys.stdout.write(converted[0]["cap_xml"])
        sys.stdout.flush()
    sys.exit(1 if failed else 0)


def _convert_file(path: Path, earlier: dict[str, tuple[str, str]]) -> dict[str, Any]:
    line: dict[str, Any] = {
        "file": str(path),
        "type": None,
        "cap": None,
        "skipped": None,
        "errors": [],
    }
    try:
        with path.open("rb") as handle:
            data = handle.read(JMA_LIMITS.max_bytes + 1)
        converted = convert(data)
    except OSError as exc:
        line["errors"].append(f"cannot open: {exc.strerror}")
        return line
    except JMAError as exc:
        line["errors"].append(str(exc))
        return line
    line["type"] = converted.type
    alert = converted.alert
    if alert is None:
        line["skipped"] = converted.skipped
        return line
    if converted.event_base in earlier:
        alert = follow(alert, converted.event_base, earlier[converted.event_base])
        assert alert is not None  # with an earlier alert there is always something to link
    elif alert.msg_type != "Alert":
        line["notes"] = [
            "the report this one corrects or cancels is not among the files; "
            "references name the event, which a hub resolves to its latest alert"
        ]
    earlier[converted.event_base] = (alert.identifier or "", alert.sent or "")
    report = validate(read_alert(to_xml(alert)))
    if not report.valid:
        line["errors"] = [f"{p.path}: {p.message}" for p in report.errors]
    line["cap"] = to_json(alert)
    line["cap_xml"] = to_xml(alert).decode()
    return line


@jp_group.command("national-test")
@hub_options("An admin token [env ALERTCOMMONS_TOKEN].")
@click.option(
    "--timeout",
    "seconds",
    type=click.FloatRange(min=0),
    default=60.0,
    show_default=True,
    help="How long to wait for receivers before reporting.",
)
@click.option("--report", "test_id", help="Report on an earlier test instead of sending one.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def national_test_command(
    hub_url: str, token: str, seconds: float, test_id: str | None, as_json: bool
) -> None:
    """Send a nationwide test transmission (「これは、Jアラートのテストです。」) and report who
    got it, who acknowledged (activated) and who did not.

    Exit 0 iff every receiver got it; 1 if some were not reached."""
    deadline = time.monotonic() + seconds
    with client(hub_url, token) as http:
        if test_id is None:
            started = call(http, "POST", "/api/v1/jp/national-tests", expect=201)
            test_id = str(started["id"])
            if not as_json:
                click.echo(f"test {test_id} sent to {started['receivers']} receivers")
        while True:
            report = call(http, "GET", f"/api/v1/jp/national-tests/{test_id}")
            if report["pending"] == 0 or time.monotonic() >= deadline:
                break
            time.sleep(0.5)
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        click.echo(
            f"{report['total']} receivers: {report['delivered'] + report['acknowledged']} got it"
            f" ({report['acknowledged']} acknowledged), {report['failed']} failed,"
            f" {report['pending']} pending"
        )
        latencies = sorted(
            i["latency_ms"] for i in report["items"] if i.get("latency_ms") is not None
        )
        if latencies:
            click.echo(
                f"latency: median {latencies[len(latencies) // 2]:.0f} ms,"
                f" slowest {latencies[-1]:.0f} ms"
            )
        for item in report["not_reached"]:
            who = item["organization"] or "?"
            where = item["label"] or item["endpoint_id"]
            click.echo(f"  NOT REACHED {who} {where}: {item['state']} {item['last_error'] or ''}")
    sys.exit(1 if report["not_reached"] else 0)
