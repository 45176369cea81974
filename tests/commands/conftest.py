"""Running the command line's entry point in-process, as the installed script does."""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from alertcommons.cli import main


@dataclass(frozen=True)
class Ran:
    code: int
    out: str
    err: str


Run = Callable[..., Ran]


@pytest.fixture
def run_cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Run:
    """``run_cli(*args, stdin="")``: the exit status and what was printed."""
    for name in [name for name in os.environ if name.startswith("ALERTCOMMONS_")]:
        monkeypatch.delenv(name)

    def run(*args: str, stdin: str = "") -> Ran:
        monkeypatch.setattr(sys, "argv", ["alertcommons", *args])
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        with pytest.raises(SystemExit) as exited:
            main()
        out, err = capsys.readouterr()
        code = exited.value.code
        return Ran(code if isinstance(code, int) else 1, out, err)

    return run
