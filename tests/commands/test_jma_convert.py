"""``alertcommons jma convert --to xml|json`` prints the CAP itself, ready for other tools."""

from __future__ import annotations

import json
from pathlib import Path

from alertcommons.cap import read_alert, validate
from tests.commands.conftest import Run

REPORT = "15_08_01_130412_VPWW53.xml"  # a weather warning
SEASONAL = "01_01_01_091210_VGSK50.xml"  # a seasonal observation: not an alert


def test_jma_convert_prints_the_cap(shared_data: Path, run_cli: Run) -> None:
    report = shared_data / "jma-samples" / REPORT
    summary = run_cli("jma", "convert", str(report))
    assert summary.code == 0 and "→ CAP" in summary.out

    as_xml = run_cli("jma", "convert", "--to", "xml", str(report))
    assert as_xml.code == 0, as_xml.err
    parsed = read_alert(as_xml.out.encode())
    assert validate(parsed).valid

    as_json = run_cli("jma", "convert", "--to", "json", str(report))
    assert as_json.code == 0, as_json.err
    assert json.loads(as_json.out)["identifier"] == parsed.alert.identifier

    skipped = run_cli("jma", "convert", "--to", "json", str(shared_data / "jma-samples" / SEASONAL))
    assert skipped.code == 0 and skipped.out == "" and "skipped" in skipped.err
