"""Publishes are validated on a pool of threads: many threads validating at once, each the
first time (building its schema), get the same verdicts as one thread alone. libxml2's schema
parser gave an intermittent internal error, or brought the process down, when two threads
built the schema together."""

from __future__ import annotations

import threading
from pathlib import Path

from alertcommons.cap import ParsedAlert, read_alerts, validate

THREADS = 12
ROUNDS = 5


def _verdicts(valid: ParsedAlert, invalid: ParsedAlert) -> object:
    return (validate(valid).errors, [problem.path for problem in validate(invalid).errors])


def _round(valid: ParsedAlert, invalid: ParsedAlert) -> list[object]:
    """Fresh threads, released together: each builds its own schema at the start."""
    start = threading.Barrier(THREADS)
    found: list[object] = []

    def check() -> None:
        start.wait()
        try:
            found.append(_verdicts(valid, invalid))
        except Exception as exc:  # the failure is the finding
            found.append(exc)

    workers = [threading.Thread(target=check) for _ in range(THREADS)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    return found


def test_threads_validating_at_once_get_the_verdicts_of_one(cap_dir: Path) -> None:
    (valid,) = read_alerts((cap_dir / "australia.cap").read_bytes())
    (invalid,) = read_alerts((cap_dir / "invalid.cap").read_bytes())
    rounds = [_round(valid, invalid) for _ in range(ROUNDS)]
    # in this thread, alone, last: the threads above were the first to need the schema
    expected = _verdicts(valid, invalid)
    assert expected != ([], [])
    assert rounds == [[expected] * THREADS] * ROUNDS
