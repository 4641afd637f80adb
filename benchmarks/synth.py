"""Synthetic cohort throughput: `generate_cohort` (vectorised numpy) and writing it out.

Times, for `--patients` patients: generation alone (demographics, risk factors, outcomes,
genotypes); writing NDJSON without VCFs; writing NDJSON plus one multi-sample VCF; and writing
one transaction Bundle plus one VCF per patient (file-system bound). Prints one JSON line of
seconds and patients/s per stage. Target (issue 3): 100,000 patients generated well under a
minute.

    .venv/bin/python benchmarks/synth.py [--patients 100000] [--out /tmp/pmed-synth-bench]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import tempfile
import time
from pathlib import Path

from pmed.record.synth import generate_cohort
from pmed.record.synth.writer import write_cohort


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--skip-bundles", action="store_true", help="skip the per-file stage")
    args = parser.parse_args()
    n = args.patients
    root = args.out or Path(tempfile.mkdtemp(prefix="pmed-synth-bench-"))
    results: dict[str, object] = {
        "benchmark": "synth",
        "patients": n,
        "machine": f"{platform.machine()} {os.cpu_count()} cpus, "
        f"Python {platform.python_version()}",
    }

    def stage(name: str, seconds: float) -> None:
        results[f"{name}_s"] = round(seconds, 3)
        results[f"{name}_patients_per_s"] = round(n / seconds)

    t0 = time.perf_counter()
    cohort = generate_cohort(n, args.seed)
    stage("generate", time.perf_counter() - t0)
    stages = [("ndjson", "ndjson", "none"), ("ndjson_multivcf", "ndjson", "multi")]
    if not args.skip_bundles:
        stages.append(("bundles_patient_vcfs", "bundle", "patient"))
    try:
        for name, fmt, vcf in stages:
            out = root / name
            t0 = time.perf_counter()
            summary = write_cohort(cohort, out, fmt=fmt, vcf=vcf)
            stage(f"write_{name}", time.perf_counter() - t0)
            results["resources"] = summary.resources
            shutil.rmtree(out, ignore_errors=True)
    finally:
        if args.out is None:
            shutil.rmtree(root, ignore_errors=True)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
