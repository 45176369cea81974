"""The docs are the test: every fenced code block in README.md and docs/*.md is run by some
test, or says why not (see tests/support/docs.py for the markers).

* ``RUN_BY`` names, per document and info string, the test that runs those blocks; that test
  must read them through ``runnable(doc, info)``, so a new block is run as soon as it is written.
* ``<!-- request: POST /path as ORG -->`` blocks are sent here, to the hub as ``make run``
  starts it, with the demo organization's token, and must be accepted.
* ``<!-- synopsis: … -->`` blocks are command lines with placeholders: every command, option
  and listed choice must exist, as ``alertcommons … --help`` knows it.
* Every JSON block, run or not, is JSON.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import click
import httpx
import pytest

from alertcommons.cli import cli
from tests.support.demo import DemoHub
from tests.support.docs import ROOT, Block, blocks, documents

RUN_BY = {
    ("docs/api.md", "sh"): "tests/hub/test_docs_api.py",
    ("docs/console.md", "sh"): "tests/hub/test_docs_api.py",
    ("docs/maps.md", "sh"): "tests/hub/test_docs_api.py",
    ("docs/sources.md", "sh"): "tests/hub/test_docs_sources.py",
    # read there for tests/delivery/test_docs_receivers.py and test_docs_receivers_demo.py
    ("docs/receivers.md", "sh"): "tests/support/receiver_guide.py",
    ("docs/receivers.md", "python"): "tests/support/receiver_guide.py",
    ("docs/cap-json.md", "json"): "tests/cap/test_jsonmap.py",
}
MARKERS = ("not run", "request", "synopsis")


def _all() -> list[Block]:
    return [block for doc in documents() for block in blocks(doc)]


def test_every_block_is_run_or_says_why_not() -> None:
    unaccounted = []
    for block in _all():
        if block.marker in MARKERS:
            assert block.what, f"{block}: a '{block.marker}' marker needs its reason or request"
        elif block.info != "text" and (block.doc, block.info) not in RUN_BY:
            unaccounted.append(str(block))
    assert unaccounted == [], (
        "these code blocks are neither run by a test nor marked "
        "(see tests/support/docs.py): " + ", ".join(unaccounted)
    )


@pytest.mark.parametrize(("doc", "info"), sorted(RUN_BY))
def test_the_named_test_reads_the_blocks(doc: str, info: str) -> None:
    """The test named for a document reads its blocks through ``runnable`` — a block added
    later is run, not skipped."""
    source = (ROOT / RUN_BY[(doc, info)]).read_text()
    assert f'runnable("{doc}", "{info}")' in source, RUN_BY[(doc, info)]


def test_every_json_block_is_json() -> None:
    for block in (b for b in _all() if b.info == "json"):
        text = block.text.strip()
        try:
            json.loads(text if text[:1] in "{[" else "{" + text + "}")  # a part of an answer
        except ValueError as exc:
            pytest.fail(f"{block}: not JSON: {exc}")


def _command(words: list[str]) -> tuple[list[click.Command], list[str]]:
    """The commands a synopsis line names (``a|b`` names several), and the rest of it."""
    group: click.Command = cli
    while isinstance(group, click.Group) and words:
        names = words[0].split("|")
        if not all(name in group.commands for name in names):
            break
        words = words[1:]
        if len(names) > 1:
            return [group.commands[name] for name in names], words
        group = group.commands[names[0]]
    return [group], words


def _check_synopsis(block: Block) -> list[str]:
    wrong = []
    text = block.text.replace("\\\n", " ")
    lines: list[str] = []
    for line in text.splitlines():
        if line.startswith(" ") and lines:  # a continuation of the line above
            lines[-1] += line
        else:
            lines.extend(part.strip() for part in line.split(" / "))
    for line in lines:
        line = line.split("#")[0].strip()
        if not line.startswith("alertcommons "):
            continue
        commands, rest = _command(line.split()[1:])
        for command in commands:
            options = {o: p for p in command.params for o in p.opts + p.secondary_opts}
            if command is cli or isinstance(command, click.Group):
                wrong.append(f"{block}: '{line}' names no command")
                continue
            for match in re.finditer(r"(--[a-z][a-z-]*)(?:[ =]([a-z]+(?:\|[a-z]+)+))?", line):
                option = options.get(match.group(1))
                if option is None:
                    wrong.append(f"{block}: {command.name} has no {match.group(1)}")
                elif match.group(2) and isinstance(option.type, click.Choice):
                    missing = set(match.group(2).split("|")) - set(option.type.choices)
                    if missing:
                        wrong.append(f"{block}: {match.group(1)} has no {sorted(missing)}")
        assert rest is not None
    return wrong


def test_synopses_name_real_commands_and_options() -> None:
    synopses = [b for b in _all() if b.marker == "synopsis"]
    assert len(synopses) >= 3
    wrong = [problem for block in synopses for problem in _check_synopsis(block)]
    assert wrong == []


def test_request_bodies_are_accepted_by_the_hub_make_run_starts(tmp_path: Path) -> None:
    requests = [b for b in _all() if b.marker == "request"]
    assert len(requests) >= 4
    with DemoHub(tmp_path / "checkout") as hub:
        tokens = hub.credentials()["tokens"]
        refused = []
        for block in requests:
            assert block.what is not None
            match = re.fullmatch(r"(POST|PUT|PATCH) (/\S+) as (\S+)", block.what)
            assert match, f"{block}: the request marker reads 'METHOD /path as ORG_ID'"
            method, path, org = match.groups()
            answer = httpx.request(
                method,
                f"{hub.url}{path}",
                content=block.text.encode(),
                headers={
                    "Authorization": f"Bearer {tokens[org]}",
                    "Content-Type": "application/json",
                },
                timeout=30,
            )
            if not 200 <= answer.status_code < 300:
                refused.append(f"{block}: {answer.status_code} {answer.text[:300]}")
    assert refused == []
