"""CAP throughput on one core: parse + validate, and serialize, over the shared samples.

Prints one JSON object. Run: ``python bench/cap_parse.py [--seconds N]``.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from collections.abc import Callable
from pathlib import Path

from alertcommons.cap import read_alerts, to_json, to_xml, validate
from alertcommons.cap.reader import CapReadError

SAMPLES = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "cap"


def _rate(seconds: float, work: Callable[[], int]) -> float:
    done = 0
    start = time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        done += work()
    return done / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()

    documents: list[bytes] = []
    for path in sorted(SAMPLES.glob("*.cap")):
        data = path.read_bytes()
        try:
            read_alerts(data)
        except CapReadError:
            continue  # xee.cap: refused by design, not a throughput case
        documents.append(data)
    alerts = [parsed.alert for data in documents for parsed in read_alerts(data)]

    def parse_and_validate() -> int:
        count = 0
        for data in documents:
            for parsed in read_alerts(data):
                validate(parsed)
                count += 1
        return count

    def serialize_xml() -> int:
        for alert in alerts:
            to_xml(alert)
        return len(alerts)

    def serialize_json() -> int:
        for alert in alerts:
            json.dumps(to_json(alert), ensure_ascii=False)
        return len(alerts)

    result = {
        "benchmark": "cap_parse",
        "samples": len(documents),
        "mean_sample_bytes": round(sum(map(len, documents)) / len(documents)),
        "parse_validate_per_s": round(_rate(args.seconds, parse_and_validate)),
        "serialize_xml_per_s": round(_rate(args.seconds, serialize_xml)),
        "serialize_json_per_s": round(_rate(args.seconds, serialize_json)),
        "goal_parse_validate_per_s": 2000,
        "cores_used": 1,
        "python": platform.python_version(),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
