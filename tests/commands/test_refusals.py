"""Every refusal of the command line: one line on standard error, exit 2, nothing on disk.

Each case runs the command line's entry point (``alertcommons.cli.main``, what the installed
``alertcommons`` script calls) in a fresh working directory — the default data directory,
``alertcommons-data``, would be made there — and compares the whole tree before and after.
In-process, so the cases take a second rather than a minute of interpreter starts.
"""

from __future__ import annotations

import io
import os
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from alertcommons.cli import main

# (name, arguments, extra environment, words the one line must hold); "{missing}" is a
# directory that does not exist, "{empty}" one that exists but holds no hub.
CASES = [
    ("audit-missing-dir", ["audit", "verify", "--data-dir", "{missing}"], {}, "no data directory"),
    ("audit-empty-dir", ["audit", "verify", "--data-dir", "{empty}"], {}, "no hub database"),
    (
        "audit-env-missing-dir",
        ["audit", "verify"],
        {"ALERTCOMMONS_DATA_DIR": "{missing}"},
        "no data directory",
    ),
    ("user-disable-missing", ["user", "disable", "bob", "--data-dir", "{missing}"], {}, "init"),
    (
        "user-add-empty",
        ["user", "add", "bob", "--org", "operator", "--password-stdin", "--data-dir", "{empty}"],
        {},
        "no hub database",
    ),
    ("user-roles-empty", ["user", "roles", "bob", "viewer", "--data-dir", "{empty}"], {}, "init"),
    ("init-mysql", ["init", "--database-url", "mysql://x/y"], {}, "unsupported database URL"),
    ("init-garbage", ["init", "--database-url", "garbage"], {}, "unsupported database URL"),
    (
        "serve-mysql-env",
        ["serve", "--port", "0"],
        {"ALERTCOMMONS_DATABASE_URL": "mysql://u:pw@x/y"},
        "unsupported database URL",
    ),
    ("audit-mysql", ["audit", "verify", "--database-url", "mysql://x/y"], {}, "unsupported"),
    ("serve-bad-port", ["serve", "--port", "70000"], {}, "--port"),
    ("serve-port-env-text", ["serve"], {"ALERTCOMMONS_PORT": "eighty"}, "ALERTCOMMONS_PORT"),
    ("serve-busy-port", ["serve", "--port", "{busy}"], {}, "in use"),
    (
        "serve-negative-size",
        ["serve", "--port", "0"],
        {"ALERTCOMMONS_MAX_BODY_BYTES": "-1"},
        "ALERTCOMMONS_MAX_BODY_BYTES",
    ),
    (
        "init-missing-signing-key",
        ["init", "--data-dir", "{missing}"],
        {"ALERTCOMMONS_SIGNING_KEY": "{missing}/key.pem"},
        "does not exist",
    ),
    (
        "serve-both-stores",
        ["serve", "--data-dir", "{empty}", "--database-url", "postgresql://x/y"],
        {},
        "not both",
    ),
    ("validate-max-bytes", ["cap", "validate", "--max-bytes", "-1", "{file}"], {}, "--max-bytes"),
    ("status-negative-timeout", ["status", "x", "--token", "t", "--timeout", "-1"], {}, "timeout"),
    ("jma-json-and-to", ["jma", "convert", "--json", "--to", "xml", "{file}"], {}, "not both"),
    ("serve-log-format", ["serve", "--port", "0", "--log-format", "xml"], {}, "--log-format"),
    (
        "dispatch-log-format-env",
        ["dispatch", "--data-dir", "{empty}"],
        {"ALERTCOMMONS_LOG_FORMAT": "xml"},
        "ALERTCOMMONS_LOG_FORMAT",
    ),
    (
        "districts-import-missing",
        ["jp", "districts", "import", "{file}", "--code", "13101", "--data-dir", "{missing}"],
        {},
        "no data directory",
    ),
    (
        "shelters-import-bad-code",
        ["jp", "shelters", "import", "{file}", "--code", "99999", "--data-dir", "{empty}"],
        {},
        "--code 99999",
    ),
    (
        "shelters-import-no-file",
        [
            "jp",
            "shelters",
            "import",
            "{empty}/none.csv",
            "--code",
            "13101",
            "--data-dir",
            "{empty}",
        ],
        {},
        "cannot read",
    ),
]


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield holder.getsockname()[1]


def _tree(root: Path) -> list[str]:
    return sorted(str(path.relative_to(root)) for path in root.rglob("*"))


@pytest.mark.parametrize(
    ("args", "env", "words"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_refusal(
    tmp_path: Path,
    busy_port: int,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    env: dict[str, str],
    words: str,
) -> None:
    work = tmp_path / "work"
    (work / "empty").mkdir(parents=True)
    (work / "alert.cap").write_text("<alert/>")
    places = {
        "{missing}": str(work / "missing" / "data"),
        "{empty}": str(work / "empty"),
        "{busy}": str(busy_port),
        "{file}": str(work / "alert.cap"),
    }

    def fill(text: str) -> str:
        for key, value in places.items():
            text = text.replace(key, value)
        return text

    for name in [name for name in os.environ if name.startswith("ALERTCOMMONS_")]:
        monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, fill(value))
    monkeypatch.chdir(work)
    monkeypatch.setattr(sys, "argv", ["alertcommons", *map(fill, args)])
    monkeypatch.setattr(sys, "stdin", io.StringIO("a-long-enough-password-1\n"))
    before = _tree(work)
    with pytest.raises(SystemExit) as exited:
        main()
    out, err = capsys.readouterr()
    assert exited.value.code == 2, out + err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ") and words in lines[0], lines[0]
    assert out == ""  # no banner, no half-done work
    assert _tree(work) == before


def test_a_database_never_set_up_is_refused_not_created(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """On PostgreSQL there is no directory to look at: the schema is. Nothing is made there,
    and no key files are made in the (default) data directory."""
    from sqlalchemy import create_engine, inspect

    from tests.support.pg import fresh_database

    for name in [name for name in os.environ if name.startswith("ALERTCOMMONS_")]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    with fresh_database() as url:
        for args in (["audit", "verify"], ["user", "disable", "bob"]):
            monkeypatch.setattr(sys, "argv", ["alertcommons", *args, "--database-url", url])
            with pytest.raises(SystemExit) as exited:
                main()
            out, err = capsys.readouterr()
            assert exited.value.code == 2, out + err
            assert len(err.splitlines()) == 1 and "not set up" in err, err
        engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
        try:
            with engine.connect() as connection:
                assert inspect(connection).get_table_names() == []
        finally:
            engine.dispose()
    assert _tree(tmp_path) == []
