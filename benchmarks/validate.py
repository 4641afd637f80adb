"""FHIR R4 structural validation throughput on real Synthea resources.

Loads every Synthea bundle (the shared data set `fhir/synthea-r4` beside the checkout when it is
there, else `tests/data/fhir/synthea`), then times `pmed.record.validation.validate` on each
entry's resource, as ingest does (parsing is not timed). Prints one JSON line with the best of
`--repeat` passes (wall clock, and this process's CPU time, which other load disturbs less).
Target (validation issue): ≥ 40,000 resources/s for validation alone, so that ingest as a whole
reaches ≥ 10,000 resources/s.

    .venv/bin/python benchmarks/validate.py [--repeat 5] [--data DIR]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path
from typing import Any

import orjson

from pmed.record.validation import validate

ROOT = Path(__file__).resolve().parents[1]
CANDIDATES = (
    ROOT.parent / "shared" / "data" / "fhir" / "synthea-r4",
    ROOT / "tests" / "data" / "fhir" / "synthea",
)


def load_resources(folder: Path) -> list[dict[str, Any]]:
    resources: list[dict[str, Any]] = []
    for path in sorted(folder.glob("*.json")):
        bundle = orjson.loads(path.read_bytes())
        resources.extend(entry["resource"] for entry in bundle.get("entry", []))
    return resources


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0] if __doc__ else None)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--data", type=Path, default=None)
    args = parser.parse_args()
    folder = args.data or next((c for c in CANDIDATES if any(c.glob("*.json"))), CANDIDATES[-1])
    resources = load_resources(folder)
    if not resources:
        raise SystemExit(f"no Synthea bundles under {folder}")
    invalid = sum(1 for r in resources if validate(r))  # warm-up: tables compiled here
    times, cpu_times = [], []
    for _ in range(args.repeat):
        start, cpu_start = time.perf_counter(), time.process_time()
        for resource in resources:
            validate(resource)
        times.append(time.perf_counter() - start)
        cpu_times.append(time.process_time() - cpu_start)
    best = min(times)
    print(
        json.dumps(
            {
                "benchmark": "validate",
                "data": str(folder),
                "resources": len(resources),
                "invalid": invalid,
                "seconds": round(best, 4),
                "resources_per_s": round(len(resources) / best),
                "median_resources_per_s": round(len(resources) / statistics.median(times)),
                # CPU time of this process: the figure to compare on a busy, shared machine
                "resources_per_cpu_s": round(len(resources) / min(cpu_times)),
                "repeat": args.repeat,
            }
        )
    )


if __name__ == "__main__":
    main()
