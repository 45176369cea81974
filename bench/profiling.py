"""``--profile``: py-spy samples the hub process while a benchmark phase runs, and the top
costs are written per unit of work (per delivery, per stream event, per publish) to
``artifacts/profiles/<phase>.txt``.

py-spy (``pip install py-spy``, in the dev extra) samples from outside: the hub runs unchanged.
Without it, a phase is measured without a profile and the file says so.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

RATE = 250  # samples per second: little enough to leave the figures almost untouched
TOP = 30
OUT = Path("artifacts/profiles")
TRUNK = {
    "<module>",
    "_run_module_as_main",
    "_run_code",
    "main",
    "Command.main",
    "Command.invoke",
    "Group.invoke",
    "Context.invoke",
    "serve",
    "asyncio_run",
    "Runner.run",
    "Server.run",
    "Thread._bootstrap",
    "Thread._bootstrap_inner",
    "Thread.run",
    "_worker",
}


def py_spy() -> str | None:
    beside = Path(sys.executable).parent / "py-spy"
    return shutil.which("py-spy") or (str(beside) if beside.exists() else None)


class Profile:
    """Sample ``pid`` (and its children) from ``start()`` to ``stop(units)``."""

    def __init__(self, pid: int, phase: str, unit: str) -> None:
        self.pid, self.phase, self.unit = pid, phase, unit
        self._raw = Path(tempfile.mkstemp(suffix=".txt")[1])
        self._process: subprocess.Popen[bytes] | None = None
        self._started = 0.0

    def start(self) -> Profile:
        binary = py_spy()
        if binary is not None:
            args = [binary, "record", "--pid", str(self.pid), "--rate", str(RATE)]
            args += ["--format", "raw", "--output", str(self._raw), "--subprocesses"]
            # --gil: only the thread holding the GIL is sampled, so a thread waiting for it (the
            # store's worker threads, beside the event loop) is not counted as busy
            args += ["--nonblocking", "--gil"]
            self._process = subprocess.Popen(
                args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
            time.sleep(0.5)  # attached before the work starts
        self._started = time.monotonic()
        return self

    def stop(self, units: int) -> str | None:
        """Write the report for ``units`` units of work done meanwhile; its path."""
        seconds = time.monotonic() - self._started
        OUT.mkdir(parents=True, exist_ok=True)
        target = OUT / f"{self.phase}.txt"
        if self._process is None:
            target.write_text("py-spy is not installed (pip install py-spy): no profile\n")
            return str(target)
        self._process.send_signal(signal.SIGINT)
        try:
            self._process.wait(30)
        except subprocess.TimeoutExpired:
            self._process.kill()
        stacks = _read(self._raw)
        os.unlink(self._raw)
        target.write_text(report(self.phase, self.unit, units, seconds, stacks))
        return str(target)


def _read(path: Path) -> Counter[tuple[str, ...]]:
    stacks: Counter[tuple[str, ...]] = Counter()
    if not path.exists():
        return stacks
    for line in path.read_text(errors="replace").splitlines():
        frames, _, count = line.rpartition(" ")
        if frames and count.isdigit():
            stacks[tuple(frames.split(";"))] += int(count)
    return stacks


def _name(frame: str) -> str:
    """'function (path/to/module.py:123)' → 'function (module.py)': lines merged."""
    function, _, where = frame.partition(" (")
    file = where.rsplit(":", 1)[0].rstrip(")")
    marker = "site-packages/"
    if marker in file:
        file = file.split(marker, 1)[1]
    elif "/alertcommons/" in file:
        file = "alertcommons/" + file.split("/alertcommons/", 1)[1]
    else:
        file = file.rsplit("/", 1)[-1]
    return f"{function} ({file})"


def report(
    phase: str, unit: str, units: int, seconds: float, stacks: Counter[tuple[str, ...]]
) -> str:
    total = sum(stacks.values())
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    for frames, count in stacks.items():
        names = [_name(f) for f in frames if not f.startswith("process ")]
        names = [n for n in names if not n.startswith("thread ")]
        if not names:
            continue
        own[names[-1]] += count
        for name in set(names):
            inclusive[name] += count
    per = 1e6 / RATE / max(units, 1)  # µs of CPU per unit, for one sample

    # The trunk samples share (the CLI, the server's run loop, a worker thread's loop) says
    # nothing about the work: left out.
    trunk = {name for name, count in inclusive.items() if count >= 0.8 * total}
    trunk |= {name for name in inclusive if name.split(" (")[0] in TRUNK}
    branches = Counter({name: count for name, count in inclusive.items() if name not in trunk})

    def table(counter: Counter[str]) -> list[str]:
        rows = []
        for name, count in counter.most_common(TOP):
            share = 100 * count / max(total, 1)
            rows.append(f"{count * per:10.1f} µs/{unit}  {share:5.1f} %  {name}")
        return rows

    lines: list[Any] = [
        f"profile of the hub during '{phase}'"
        f" (py-spy --gil, {RATE} samples/s: the thread holding the GIL)",
        f"{units} {unit}s in {seconds:.1f} s; {total} samples = {total / RATE:.2f} CPU-s;"
        f" {total * per:.1f} µs of hub CPU per {unit}",
        f"machine load average: {os.getloadavg()[0]:.2f}",
        "",
        f"top {TOP} by own time (where the CPU is spent):",
        *table(own),
        "",
        f"top {TOP} including callees (what the time is spent for; the shared trunk left out):",
        *table(branches),
    ]
    return "\n".join(lines) + "\n"
