"""``alertcommons jp districts import`` and ``alertcommons jp shelters import``: a
municipality's registered districts and designated evacuation sites, from files, straight
into the database — with the same parsing, replacement and audit record as the API and the
console (``hub/places.py``).

A refusal (no such hub, a bad code, an unreadable file) is one line and exit 2; a file with
problems lists each as ``FILE:LINE: message`` and exits 2. Either way nothing is written.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from alertcommons.commands.setup import (
    CLI_ACTOR,
    Refused,
    data_dir_option,
    database_url_option,
    existing_hub,
    write_existing,
)
from alertcommons.hub import places
from alertcommons.jp.codes import name_of
from alertcommons.jp.places_import import KINDS, LIMITS, FileRefused
from alertcommons.problems import ProblemError

code_option = click.option(
    "--code", required=True, help="The municipality's local-government code (5 or 6 digits)."
)
file_argument = click.argument("file", type=click.Path(dir_okay=False, path_type=Path))


@click.group("districts")
def districts_group() -> None:
    """A municipality's registered districts (地区)."""


@click.group("shelters")
def shelters_group() -> None:
    """A municipality's designated evacuation sites and shelters (指定緊急避難場所・指定避難所)."""


@districts_group.command("import")
@file_argument
@code_option
@data_dir_option
@database_url_option
def import_districts(
    file: Path, code: str, data_dir: Path | None, database_url: str | None
) -> None:
    """Replace the municipality's districts with those of a GeoJSON FeatureCollection
    (properties name, kana; Polygon or MultiPolygon outlines)."""
    canonical, data = _inputs(file, code)
    settings = existing_hub(data_dir, database_url)
    found = _parsed(file, lambda: places.parse_districts(canonical, data))
    outcome = write_existing(
        settings,
        lambda c: places.store_districts(c, CLI_ACTOR, canonical, found, data),
    )
    click.echo(
        f"imported {outcome.imported} districts for {name_of(canonical)} ({canonical}),"
        f" replacing {outcome.replaced}: {', '.join(d.name for d in found)}"
    )


@shelters_group.command("import")
@file_argument
@code_option
@click.option(
    "--kind",
    type=click.Choice(["emergency_site", "shelter"]),
    help="The list the file is (指定緊急避難場所 or 指定避難所) when its columns do not say.",
)
@data_dir_option
@database_url_option
def import_shelters(
    file: Path, code: str, kind: str | None, data_dir: Path | None, database_url: str | None
) -> None:
    """Replace the municipality's designated sites of the file's kind with those of a CSV
    (the open-data columns of 指定緊急避難場所一覧 / 指定避難所一覧, or 国土地理院's) or a
    GeoJSON file of points."""
    canonical, data = _inputs(file, code)
    settings = existing_hub(data_dir, database_url)
    content_type = "application/json" if file.suffix.lower() in (".json", ".geojson") else ""
    found = _parsed(file, lambda: places.parse_sites(canonical, data, content_type, kind))
    outcome = write_existing(
        settings,
        lambda c: places.store_sites(c, CLI_ACTOR, canonical, found, data),
    )
    kinds = ", ".join(f"{n} {KINDS[k][1]}s" for k, n in sorted(outcome.kinds.items()))
    click.echo(
        f"imported {outcome.imported} sites for {name_of(canonical)} ({canonical}): {kinds};"
        f" replacing {outcome.replaced}"
    )


def _inputs(file: Path, code: str) -> tuple[str, bytes]:
    try:
        canonical = places.municipality(code)
    except ProblemError as exc:
        raise Refused(f"--code {code}: {exc.detail}") from None
    try:
        with file.open("rb") as handle:
            data = handle.read(LIMITS.max_bytes + 1)
    except OSError as exc:
        raise Refused(f"cannot read {file}: {exc.strerror}") from None
    return canonical, data


def _parsed(file: Path, parse: Callable[[], Any]) -> Any:
    try:
        return parse()
    except FileRefused as exc:
        for problem in exc.problems:
            where = f"{file}:{problem.line}:"
            if problem.feature is not None:
                where += f" feature {problem.feature}:"
            click.echo(f"{where} {problem.message}", err=True)
        click.echo(f"error: {file} has {exc.total} problem(s); nothing was imported", err=True)
        sys.exit(2)
