"""VCF source: call the pharmacogenes of a patient's VCF and store them as FHIR Observations.

The hook `pmed.record.ingest` uses for `.vcf`/`.vcf.gz`/`.bcf` with `--patient`: runs
`pmed.pgx.call` (PharmCAT-style matcher and phenotyper) and writes HL7 Genomics Reporting IG
genotype and phenotype Observations in one all-or-nothing `store.write_batch`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pmed.errors import InputError

__all__ = ["ingest_vcf"]


def vcf_observations(
    path: str | Path,
    patient_id: str,
    *,
    sample: str | None = None,
    outside: str | Path | None = None,
) -> list[dict[str, Any]]:
    """Call `path` (one sample, or `sample` of a multi-sample VCF) for `patient_id`: the
    Genomics Reporting IG Observations to store. InputError for a multi-sample VCF without
    `sample`. The results are dated by the VCF file's modification time, so calling the same
    file again yields the same resources (re-ingest changes nothing)."""
    from pmed.pgx import call, gene_findings
    from pmed.record.fhir_output.genomics import sample_observations

    results = call(path, outside=outside, sample=sample)
    if len(results) != 1:
        names = ", ".join(r.sample for r in results[:10])
        raise InputError(
            f"the VCF has {len(results)} samples ({names}); name the patient's sample",
            file=str(path),
        )
    subject = patient_id if "/" in patient_id else f"Patient/{patient_id}"
    produced = datetime.fromtimestamp(Path(path).stat().st_mtime, UTC)
    findings = gene_findings(results[0], subject=subject)
    for finding in findings:
        finding.provenance.generated = produced
    return sample_observations(findings, subject)


def ingest_vcf(
    store: Any,
    path: str | Path,
    patient_id: str,
    *,
    sample: str | None = None,
    outside: str | Path | None = None,
) -> list[dict[str, Any]]:
    """`vcf_observations`, written to the store in one transaction; returns them."""
    observations = vcf_observations(path, patient_id, sample=sample, outside=outside)
    if observations:
        store.write_batch(observations)
    return observations
