"""``alertcommons jp code`` and ``alertcommons jma convert``: Japanese codes and JMA XML."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from alertcommons.cap import read_alert, to_json, to_xml, validate
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
@click.option("--json", "as_json", is_flag=True, help="One JSON object per file per line.")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
def convert_command(files: tuple[Path, ...], as_json: bool) -> None:
    """Convert JMA reports to CAP 1.2; skip, with a reason, those that are not alerts.

    Reports of one event given together are linked: a later one references the earlier
    one's alert exactly. Exit 0 iff no file had an error (a skipped file is not an error)."""
    failed = False
    earlier: dict[str, tuple[str, str]] = {}
    for path in files:
        line = _convert_file(path, earlier)
        failed |= bool(line["errors"])
        if as_json:
            click.echo(json.dumps(line, ensure_ascii=False))
        elif line["errors"]:
            click.echo(f"{path}: ERROR {'; '.join(line['errors'])}")
        elif line["skipped"]:
            click.echo(f"{path}: skipped: {line['skipped']}")
        else:
            click.echo(f"{path}: {line['type']} → CAP {line['cap']['identifier']}")
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
