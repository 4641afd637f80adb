"""Ingest throughput: the Synthea bundles into SQLite and PostgreSQL, validation on.

Prints one JSON line: resources/s per backend, beside plain `json.loads` and `orjson.loads` over
the same bytes (the floor any ingest pays). Run: `.venv/bin/python benchmarks/ingest.py`.
Each backend ingests the set `--rounds` times into fresh stores; the best round is reported.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.postgres_cluster import PostgresCluster, find_bindir  # noqa: E402

from pmed.config import Settings  # noqa: E402
from pmed.record.ingest import ingest_paths  # noqa: E402
from pmed.record.store import Store  # noqa: E402

SHARED = ROOT.parent / "shared" / "data" / "fhir" / "synthea-r4"
LOCAL = ROOT / "tests" / "data" / "fhir" / "synthea"


def count_resources(files: list[Path]) -> int:
    return sum(len(json.loads(f.read_bytes())["entry"]) for f in files)


def parse_rate(files: list[Path], loads: object, resources: int) -> float:
    blobs = [f.read_bytes() for f in files]
    start = time.perf_counter()
    for blob in blobs:
        loads(blob)  # type: ignore[operator]
    return resources / (time.perf_counter() - start)


def ingest_rate(settings: Settings, files: list[Path], resources: int) -> float:
    store = Store.open(settings)
    start = time.perf_counter()
    summary = ingest_paths(store, files)
    elapsed = time.perf_counter() - start
    store.close()
    if summary.failed:
        raise SystemExit(f"ingest failed: {summary.failed[0].error}")
    return resources / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    source = SHARED if SHARED.exists() else LOCAL
    files = sorted(source.glob("*.json"))
    resources = count_resources(files)
    result: dict[str, object] = {
        "benchmark": "ingest",
        "source": str(source.relative_to(ROOT.parent)),
        "files": len(files),
        "resources": resources,
        "machine": f"{platform.machine()}, CPython {platform.python_version()}",
        "json_loads_resources_per_s": round(parse_rate(files, json.loads, resources)),
        "orjson_loads_resources_per_s": round(parse_rate(files, orjson.loads, resources)),
    }
    with tempfile.TemporaryDirectory() as tmp:
        rates = [
            ingest_rate(Settings(home=Path(tmp) / f"r{i}"), files, resources)
            for i in range(args.rounds)
        ]
        result["sqlite_resources_per_s"] = round(max(rates))
        bindir = find_bindir()
        if bindir is not None:
            cluster = PostgresCluster(bindir)
            cluster.start()
            try:
                rates = [
                    ingest_rate(
                        Settings(home=Path(tmp), database_url=cluster.new_database()),
                        files,
                        resources,
                    )
                    for _ in range(args.rounds)
                ]
                result["postgresql_resources_per_s"] = round(max(rates))
            finally:
                cluster.stop()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
