"""Write a `SynthCohort` to a directory.

Layout of `OUT/`:

* `fhir/<patient id>.json` — one FHIR transaction Bundle per patient (PUT by id, so
  re-ingesting is idempotent), or with `fmt="ndjson"` `fhir/<Type>.ndjson` (Bulk Data format);
* `vcf/<patient id>.vcf` — a GRCh38 VCF of the pharmacogene positions per patient, or with
  `vcf="multi"` one `vcf/cohort.vcf.gz` holding every patient as a sample column;
* `truth.parquet` (and `truth.csv`) — per patient: the features at the index date, the true
  10-year risk of each outcome, whether it happened and whether it was recorded, event time, and
  the drawn diplotypes (the oracle for models and PGx callers);
* `cohort.json` — seed, size, options, outcome rates and the file counts.
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any

import orjson

from pmed.errors import InputError
from pmed.record.synth.bundle import patient_resources, record_plan
from pmed.record.synth.cohort import SynthCohort
from pmed.record.synth.genetics import write_multisample_vcf, write_patient_vcfs
from pmed.record.synth.outcomes import FEATURES, OUTCOMES

__all__ = ["WriteSummary", "write_cohort"]


@dataclass
class WriteSummary:
    out: str
    patients: int
    resources: int
    resource_counts: dict[str, int] = field(default_factory=dict)
    fhir_files: int = 0
    vcf_files: int = 0
    outcome_rates: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _write_file(path: Path, data: bytes) -> None:
    """Write a whole file with one system call (pathlib's open/close is slow for 10^5 files)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


def _flush(pending: dict[str, list[bytes]], handles: dict[str, IO[bytes]], fhir: Path) -> None:
    """Append the buffered NDJSON lines to `<Type>.ndjson`, opening files on first use."""
    for rtype, lines in pending.items():
        if not lines:
            continue
        handle = handles.get(rtype)
        if handle is None:
            handle = handles[rtype] = (fhir / f"{rtype}.ndjson").open("wb")
        handle.write(b"\n".join(lines) + b"\n")
        lines.clear()


def write_cohort(
    cohort: SynthCohort,
    out: Path,
    *,
    fmt: str = "bundle",
    vcf: str = "patient",
    progress: Callable[[int], None] | None = None,
) -> WriteSummary:
    """Write FHIR, VCFs, the truth table and a manifest under `out` (see the module doc)."""
    if fmt not in ("bundle", "ndjson"):
        raise InputError(f"unknown format {fmt!r} (bundle or ndjson)")
    if vcf not in ("patient", "multi", "none"):
        raise InputError(f"unknown VCF layout {vcf!r} (patient, multi or none)")
    if vcf != "none" and cohort.genotypes is None:
        raise InputError("the cohort was generated without genetics; cannot write VCFs")
    out.mkdir(parents=True, exist_ok=True)
    fhir = out / "fhir"
    fhir.mkdir(exist_ok=True)
    plan = record_plan(cohort)
    counts: dict[str, int] = defaultdict(int)
    summary = WriteSummary(out=str(out), patients=cohort.size, resources=0)
    handles: dict[str, IO[bytes]] = {}
    pending: dict[str, list[bytes]] = defaultdict(list)
    try:
        for i in range(cohort.size):
            resources = list(patient_resources(plan, i))
            for r in resources:
                counts[r["resourceType"]] += 1
            if fmt == "bundle":
                bundle = {
                    "resourceType": "Bundle",
                    "type": "transaction",
                    "entry": [
                        {
                            "resource": r,
                            "request": {"method": "PUT", "url": f"{r['resourceType']}/{r['id']}"},
                        }
                        for r in resources
                    ],
                }
                _write_file(fhir / f"{plan['id'][i]}.json", orjson.dumps(bundle))
                summary.fhir_files += 1
            else:
                for r in resources:
                    pending[r["resourceType"]].append(orjson.dumps(r))
            if (i + 1) % 1000 == 0:
                _flush(pending, handles, fhir)
                if progress is not None:
                    progress(1000)
        _flush(pending, handles, fhir)
        if progress is not None and cohort.size % 1000:
            progress(cohort.size % 1000)
    finally:
        for handle in handles.values():
            handle.close()
    if fmt == "ndjson":
        summary.fhir_files = len(handles)
    summary.resource_counts = dict(sorted(counts.items()))
    summary.resources = sum(counts.values())
    if cohort.genotypes is not None and vcf == "patient":
        summary.vcf_files = write_patient_vcfs(out / "vcf", cohort.genotypes)
    elif cohort.genotypes is not None and vcf == "multi":
        write_multisample_vcf(out / "vcf" / "cohort.vcf.gz", cohort.genotypes)
        summary.vcf_files = 1
    truth = cohort.truth()
    truth.write_parquet(out / "truth.parquet")
    truth.write_csv(out / "truth.csv")
    summary.outcome_rates = {o: round(float(cohort.recorded[o].mean()), 4) for o in OUTCOMES}
    manifest = {
        "generator": "pmed synth",
        "seed": cohort.seed,
        "patients": cohort.size,
        "horizon_years": cohort.horizon,
        "under_record": asdict(cohort.under_record) if cohort.under_record else None,
        "features": list(FEATURES),
        "outcomes": list(OUTCOMES),
        "risk_function": "pmed.record.synth.outcomes.true_risk(features, outcome, horizon)",
        "format": fmt,
        "vcf": vcf,
        "summary": summary.as_dict(),
    }
    (out / "cohort.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return summary
