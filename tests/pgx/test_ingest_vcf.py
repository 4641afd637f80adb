"""`ingest_vcf`: PGx calls stored as Genomics Reporting IG Observations the patient view reads."""

from __future__ import annotations

from pathlib import Path

import pytest

from pmed.config import Settings
from pmed.errors import InputError
from pmed.record.fhir_output import finding_to_fhir
from pmed.record.patient import PatientRecord
from pmed.record.sources.vcf import ingest_vcf
from pmed.record.store import Store

DATA = Path(__file__).parents[1] / "data" / "pgx" / "test-vcfs"


def test_ingested_cyp2c19_call_is_read_back_by_the_patient_view(sqlite_settings: Settings) -> None:
    store = Store.open(sqlite_settings)
    store.update({"resourceType": "Patient", "id": "p1"})
    written = ingest_vcf(store, DATA / "cyp2c19" / "s1s2.vcf", "p1")
    assert {o["code"]["coding"][0]["code"] for o in written} == {"84413-4", "53040-2"}
    again = ingest_vcf(store, DATA / "cyp2c19" / "s1s2.vcf", "p1")
    assert [o["id"] for o in again] == [o["id"] for o in written]  # same ids: idempotent
    record = PatientRecord.load(store, "p1")
    results = {g.gene: g for g in record.genomic_results()}
    assert results["CYP2C19"].diplotype == "*1/*2"
    assert results["CYP2C19"].phenotype == "Intermediate Metabolizer"


def test_multi_sample_vcf_needs_a_sample(tmp_path: Path, sqlite_settings: Settings) -> None:
    vcf = tmp_path / "two.vcf"
    src = (DATA / "cyp2c19" / "s1s2.vcf").read_text().splitlines()
    lines = [
        line + "\tOTHER"
        if line.startswith("#CHROM")
        else line
        if line.startswith("#")
        else line + "\t" + line.split("\t")[-1]
        for line in src
    ]
    vcf.write_text("\n".join(lines) + "\n")
    store = Store.open(sqlite_settings)
    with pytest.raises(InputError, match="2 samples"):
        ingest_vcf(store, vcf, "p1")
    assert ingest_vcf(store, vcf, "p1", sample="OTHER")


def test_unknown_finding_kind_has_no_fhir_mapping() -> None:
    from pmed.findings import Code, Finding, FindingKind, Provenance

    f = Finding(
        kind=FindingKind.ALERT,
        code=Code(system="x", code="y"),
        summary="s",
        provenance=Provenance(engine="e", engine_version="1"),
    )
    with pytest.raises(InputError):
        finding_to_fhir(f, "p1")


def test_pgx_observations_pass_fhir_validation() -> None:
    from pmed.pgx import call, gene_findings
    from pmed.record.fhir_output.genomics import sample_observations
    from pmed.record.validation import validate

    result = call(DATA / "cyp2c19" / "s4bs17rs28399504missing.vcf")[0]
    observations = sample_observations(gene_findings(result, "Patient/p1"), "Patient/p1")
    assert observations
    for obs in observations:
        assert validate(obs) == [], obs["id"]


def test_reingesting_the_same_vcf_changes_nothing(sqlite_settings: Settings) -> None:
    from pmed.record.ingest import ingest_file

    store = Store.open(sqlite_settings)
    store.update({"resourceType": "Patient", "id": "p1"})
    first = ingest_file(store, DATA / "cyp2c19" / "s1s2.vcf", patient="p1")
    again = ingest_file(store, DATA / "cyp2c19" / "s1s2.vcf", patient="p1")
    assert first.created > 0
    assert (again.created, again.updated, again.unchanged) == (0, 0, first.created)
    versions = {
        o["meta"]["versionId"] for o in store.search("Observation", [("patient", "p1")]).resources
    }
    assert versions == {"1"}
