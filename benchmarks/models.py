"""Benchmark: cohort + feature extraction from SQLite, and training time of both learners.

    python benchmarks/models.py --home PMED_HOME        # an existing synthetic store
    python benchmarks/models.py --build 100000          # generate + ingest one first (slow)

Prints one JSON line: extraction patients/s (patients in the store scanned / wall time, and the
cohort size) for `examples/ascvd_10y.yaml`, for a first pass (file possibly not in the OS cache)
and a second; fit time of L1 logistic and LightGBM on that cohort;
and fit time of both on a 100,000 × 100 matrix (targets: extraction ≥ 2,000 patients/s,
LightGBM on 100,000 × 100 in under 60 s). A benchmark, never a timed test.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "ascvd_10y.yaml"


def _build(n: int, where: Path) -> tuple[Path, float]:
    from pmed.config import Settings
    from pmed.record.ingest import ingest_paths
    from pmed.record.store import Store
    from pmed.record.synth.cohort import generate_cohort
    from pmed.record.synth.writer import write_cohort

    start = time.perf_counter()
    cohort = generate_cohort(n, seed=1, genetics=False)
    write_cohort(cohort, where / "synth", fmt="ndjson", vcf="none")
    store = Store.open(Settings(home=where / "home"))
    ingest_paths(store, [where / "synth" / "fhir"])
    store.close()
    return where / "home", time.perf_counter() - start


def _matrix(n: int, p: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """n × p features (10% missing in a fifth of the columns), ~10% events from a non-linear
    function of the first ten."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, p))
    lp = -2.6 + x[:, :10] @ rng.normal(0, 0.35, 10) + 0.3 * np.maximum(x[:, 0], 0) ** 2
    y = (rng.random(n) < 1 / (1 + np.exp(-lp))).astype(np.int64)
    holes = rng.random((n, p // 5)) < 0.1
    x[:, : p // 5][holes] = np.nan
    return x, y


def _fit(x: np.ndarray, y: np.ndarray, algorithm: str) -> float:
    from pmed.models.train import TrainingData, train

    data = TrainingData(
        name="bench", x=x, y=y, feature_names=[f"f{i}" for i in range(x.shape[1])],
        ids=[str(i) for i in range(len(y))],
    )  # fmt: skip
    start = time.perf_counter()
    train(data, algorithm)
    return round(time.perf_counter() - start, 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, help="PMED_HOME of an existing synthetic store")
    parser.add_argument("--build", type=int, help="generate and ingest this many patients first")
    parser.add_argument("--matrix-rows", type=int, default=100_000)
    parser.add_argument("--matrix-cols", type=int, default=100)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "src"))

    from pmed.config import Settings
    from pmed.population import extract_cohort, load_definition, to_training_data
    from pmed.record.store import Store

    result: dict[str, object] = {"benchmark": "models", "python": platform.python_version(),
                                 "cpus": os.cpu_count()}  # fmt: skip
    tmp = None
    home = args.home
    if home is None:
        tmp = tempfile.TemporaryDirectory()
        home, seconds = _build(args.build or 100_000, Path(tmp.name))
        result["build_seconds"] = round(seconds, 1)
    store = Store.open(Settings(home=home))
    in_store = store.counts().get("Patient", 0)
    definition = load_definition(EXAMPLE)
    passes = []
    for _ in range(2):  # the first pass may read the file from disk; the second from the cache
        start = time.perf_counter()
        features = extract_cohort(store, definition)
        passes.append(time.perf_counter() - start)
    extract_s = passes[1]
    data = to_training_data(features)
    result.update(
        store_patients=in_store,
        cohort_patients=features.n,
        features=len(features.feature_names),
        extract_seconds_first_pass=round(passes[0], 2),
        extract_seconds=round(extract_s, 2),
        extract_patients_per_s_first_pass=round(in_store / passes[0]),
        extract_patients_per_s=round(in_store / extract_s),
        extract_cohort_patients_per_s=round(features.n / extract_s),
        cohort_fit_seconds={a: _fit(data.x, data.y, a) for a in ("logistic", "lightgbm")},
    )
    x, y = _matrix(args.matrix_rows, args.matrix_cols)
    result["matrix"] = f"{args.matrix_rows}x{args.matrix_cols}"
    result["matrix_fit_seconds"] = {a: _fit(x, y, a) for a in ("lightgbm", "logistic")}
    result["targets"] = {"extract_patients_per_s": 2000, "lightgbm_matrix_seconds": 60}
    print(json.dumps(result))
    store.close()
    if tmp is not None:
        tmp.cleanup()


if __name__ == "__main__":
    main()
