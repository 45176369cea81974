"""``alertcommons jp districts import`` and ``jp shelters import``: straight into the hub's
database, on SQLite and PostgreSQL; a bad file names its lines and imports nothing; a
refusal is one line, exit 2, nothing made."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest
from sqlalchemy import select

from alertcommons.hub.storage import store_for
from alertcommons.settings import Settings
from alertcommons.store import places
from alertcommons.store.schema import audit_log
from tests.commands.conftest import Run

DEMO = resources.files("alertcommons.jp").joinpath("demo_places")


@pytest.fixture
def where(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run_cli: Run
) -> list[str]:
    """The options that name an initialized hub."""
    monkeypatch.chdir(tmp_path)
    options = (
        ["--data-dir", str(tmp_path / "data")]
        if database_url.startswith("sqlite")
        else ["--database-url", database_url]
    )
    ran = run_cli("init", *options)
    assert ran.code == 0, ran.err
    return options


def _settings(options: list[str], tmp_path: Path) -> Settings:
    if options[0] == "--data-dir":
        return Settings(data_dir=Path(options[1]))
    return Settings(data_dir=tmp_path / "alertcommons-data", database_url=options[1])


def _read(options: list[str], tmp_path: Path) -> tuple[list[str], list[str], list[str]]:
    """(district names, site names, audit actions) as the database holds them."""
    store = store_for(_settings(options, tmp_path))
    try:
        districts = store.run_read(lambda c: [d.name for d in places.districts(c, "13101")])
        sites = store.run_read(lambda c: [s.name for s in places.sites(c, "13101")])
        actions = store.run_read(
            lambda c: [r.action for r in c.execute(select(audit_log.c.action))]
        )
    finally:
        store.close()
    return districts, sites, actions


def test_the_demo_files_import(where: list[str], run_cli: Run, tmp_path: Path) -> None:
    districts = DEMO.joinpath("chiyoda-districts.geojson")
    ran = run_cli("jp", "districts", "import", str(districts), "--code", "13101", *where)
    assert ran.code == 0, ran.err
    assert ran.out.startswith("imported 8 districts for 東京都千代田区 (13101), replacing 0:")
    assert "神田地区" in ran.out
    for name in ("chiyoda-shelters.csv", "chiyoda-emergency-sites.csv"):
        ran = run_cli(
            "jp", "shelters", "import", str(DEMO.joinpath(name)), "--code", "131016", *where
        )
        assert ran.code == 0, ran.err
    assert "4 designated emergency evacuation sites" in ran.out
    names, sites, actions = _read(where, tmp_path)
    assert len(names) == 8 and len(sites) == 11
    assert actions.count("districts.import") == 1 and actions.count("shelters.import") == 2


def test_a_broken_row_is_named_and_nothing_is_imported(
    where: list[str], run_cli: Run, tmp_path: Path
) -> None:
    good = DEMO.joinpath("chiyoda-shelters.csv").read_text("utf-8")
    rows = good.splitlines()
    rows[2] = rows[2].replace("35.6885", "35.x")  # line 3
    rows[5] = rows[5].replace(",1,1,1,1,1,,1,,", ",1,1,1,1,maybe,,1,,")  # line 6
    broken = tmp_path / "broken.csv"
    broken.write_bytes("\n".join(rows).encode("cp932"))
    ran = run_cli("jp", "shelters", "import", str(broken), "--code", "13101", *where)
    assert ran.code == 2, ran.out + ran.err
    lines = ran.err.splitlines()
    assert lines[0].startswith(f"{broken}:3: ") and "緯度" in lines[0]
    assert lines[1].startswith(f"{broken}:6: ") and "災害種別_津波" in lines[1]
    assert lines[2] == f"error: {broken} has 2 problem(s); nothing was imported"
    assert ran.out == ""
    assert _read(where, tmp_path)[1] == []


def test_refusals_are_one_line_and_make_nothing(run_cli: Run, tmp_path: Path) -> None:
    districts = str(DEMO.joinpath("chiyoda-districts.geojson"))
    missing = tmp_path / "missing"
    before = sorted(tmp_path.rglob("*"))
    for args, words in (
        (
            ["districts", "import", districts, "--code", "13101", "--data-dir", str(missing)],
            "no data directory",
        ),
        (
            ["shelters", "import", districts, "--code", "13", "--data-dir", str(tmp_path)],
            "not a prefecture",
        ),
    ):
        ran = run_cli("jp", *args)
        assert ran.code == 2, ran.err
        assert len(ran.err.splitlines()) == 1 and words in ran.err, ran.err
    assert sorted(tmp_path.rglob("*")) == before
