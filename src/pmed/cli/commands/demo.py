"""`pmed demo`: a small synthetic cohort, loaded and shown end to end, in well under a minute."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import click
from rich.progress import Progress

from pmed.cli._output import console, err_console
from pmed.cli._store import open_store
from pmed.cli.commands.record import print_summary, record_summary
from pmed.config import Settings
from pmed.record.ingest import ingest_file, ingest_paths
from pmed.record.store import Store

# Drugs whose CPIC guideline the demo checks for the demo patient (common in primary care).
_DEMO_DRUGS = [
    "clopidogrel",
    "simvastatin",
    "atorvastatin",
    "warfarin",
    "citalopram",
    "ondansetron",
]


def _pick_patient(truth: Any) -> str:
    """The patient without a recorded ASCVD event, aged 45–65 at the cohort's index date (so
    still inside the equations' age range today), with the highest true 10-year ASCVD risk:
    a primary-prevention patient with the most to show."""
    import polars as pl

    adults = truth.filter((pl.col("age") >= 45) & (pl.col("age") <= 65) & ~pl.col("recorded_ascvd"))
    frame = adults if adults.height else truth
    return str(frame.sort("risk_ascvd", descending=True)["id"][0])


@click.command("demo")
@click.option("--patients", default=600, show_default=True, help="Cohort size.")
@click.option("--seed", default=42, show_default=True, help="Random seed (same seed, same cohort).")
def command(patients: int, seed: int) -> None:
    """Build a synthetic cohort, load it into the embedded store and show one patient.

    \b
    Steps: generate FHIR bundles and pharmacogene VCFs (pmed synth), ingest them (pmed ingest),
    call each genome into the record, then show one patient's record, risk scores and
    drug-gene results. Everything lands under $PMED_HOME (default ./.pmed); running it again
    changes nothing.
    """
    from pmed.record.synth import generate_cohort
    from pmed.record.synth.writer import write_cohort

    started = time.perf_counter()
    settings = Settings.from_env()
    out = settings.home / "demo-cohort"
    console.print(f"[bold]1. Generating[/bold] {patients} synthetic patients (seed {seed}) → {out}")
    cohort = generate_cohort(patients, seed)
    write_cohort(cohort, out)

    store = open_store(settings)
    console.print("[bold]2. Ingesting[/bold] FHIR bundles and genomes into the store")
    summary = ingest_paths(store, [out / "fhir"])
    if summary.failed:
        raise click.ClickException(f"demo data failed to load: {summary.failed[0].error}")
    vcfs = sorted((out / "vcf").glob("*.vcf*"))
    with Progress(console=err_console, transient=True) as progress:
        task = progress.add_task("calling genomes", total=len(vcfs))
        for vcf in vcfs:
            ingest_file(store, vcf, patient=vcf.name.split(".")[0])
            progress.advance(task)
    counts = store.counts()
    console.print(
        f"   {sum(counts.values())} resources: "
        + ", ".join(f"{n} {t}" for t, n in sorted(counts.items(), key=lambda kv: -kv[1])[:8])
    )

    patient_id = _pick_patient(cohort.truth())
    console.print(f"\n[bold]3. One patient's record[/bold] (pmed record show {patient_id})")
    print_summary(record_summary(store, patient_id))
    _show_risk(store, patient_id)
    _show_pgx(out / "vcf", patient_id)
    _write_reports(store, patient_id, settings.home / "reports")
    _train_example_model(store, settings, patient_id)

    console.print(
        f"\nDone in {time.perf_counter() - started:.1f} s. Next:\n"
        f"  pmed serve                      # FHIR API at http://localhost:8000 (docs at /docs)\n"
        f"  pmed auth token --role admin --user me   # a bearer token for the API\n"
        f"  pmed record show {patient_id}\n"
        f"  pmed risk score {patient_id}\n"
        f"  pmed pgx recommend --vcf {out / 'vcf' / (patient_id + '.vcf')} --drug clopidogrel",
        soft_wrap=True,
    )


def _show_risk(store: Store, patient_id: str) -> None:
    from pmed.record.patient import PatientRecord
    from pmed.risk.from_record import score_record

    console.print(f"\n[bold]4. Risk scores[/bold] (pmed risk score {patient_id})")
    for finding in score_record(PatientRecord.load(store, patient_id)):
        console.print(f"   • {finding.summary}")
        if finding.explanation:
            for what_if in finding.explanation.what_ifs[:3]:
                changes = ", ".join(f"{k}={v}" for k, v in what_if.changes.items())
                label = " (estimate)" if what_if.estimate else ""
                console.print(
                    f"       what if {changes}: {what_if.value:.1f}% "
                    f"({what_if.absolute_change:+.1f} points){label}"
                )


def _show_pgx(vcf_dir: Path, patient_id: str) -> None:
    from pmed.pgx import call, lookup_from_calls, recommend

    console.print("\n[bold]5. Pharmacogenomics[/bold] (CPIC)")
    vcf = next(iter(sorted(vcf_dir.glob(f"{patient_id}.vcf*"))), None)
    if vcf is None:
        console.print("   no genome for this patient")
        return
    calls = call(vcf)[0]
    for gene, gene_call in sorted(calls.genes.items()):
        phenotype = gene_call.phenotype or ""
        if phenotype and not phenotype.startswith(("Normal", "Indeterminate")):
            console.print(
                f"   {gene:<8} {'; '.join(gene_call.diplotypes):<16} {gene_call.phenotype}"
            )
    shown: set[str] = set()
    for rec in recommend(lookup_from_calls(calls), _DEMO_DRUGS):
        if rec.drug not in shown and rec.action not in ("not-covered", "needs-genotype"):
            shown.add(rec.drug)  # the first population's recommendation per drug
            console.print(f"   [yellow]{rec.drug}[/yellow]: {rec.summary}")


def _example_cohort() -> Path | None:
    """`examples/ascvd_10y.yaml` of the source checkout (or the current directory)."""
    for root in (Path.cwd(), Path(__file__).resolve().parents[4]):
        candidate = root / "examples" / "ascvd_10y.yaml"
        if candidate.exists():
            return candidate
    return None


def _train_example_model(store: Store, settings: Settings, patient_id: str) -> None:
    """Train the shipped 10-year ASCVD cohort example (logistic, fast) and score the patient."""
    from pmed.errors import PmedError
    from pmed.models import develop
    from pmed.population import extract_cohort, load_definition, to_training_data

    cohort = _example_cohort()
    console.print("\n[bold]7. A learned model[/bold] (pmed models train examples/ascvd_10y.yaml)")
    if cohort is None:
        console.print("   examples/ascvd_10y.yaml not found (run from the source checkout)")
        return
    try:
        features = extract_cohort(store, load_definition(str(cohort)))
        registered = develop(to_training_data(features), "logistic", settings.home)
    except PmedError as exc:  # e.g. too few events in a small demo cohort
        console.print(f"   not trained: {exc}")
        return
    metrics = registered.meta["metrics"]
    console.print(f"   {registered.id}: {features.n} patients; {_metric_line(metrics)}")
    console.print(f"   pmed models card {registered.id}")


def _metric_line(metrics: Any) -> str:
    if not isinstance(metrics, dict):
        return ""
    parts = []
    for key in ("auroc", "calibration_slope", "brier"):
        value = metrics.get(key)
        if isinstance(value, int | float):
            parts.append(f"{key} {value:.3f}")
    return ", ".join(parts)


def _write_reports(store: Store, patient_id: str, out_dir: Path) -> None:
    """Clinician and patient reports, when the care-plan report module is installed."""
    try:
        from pmed.care.report import write_demo_reports
    except ImportError:
        return
    paths = write_demo_reports(store, patient_id, out_dir)
    console.print("\n[bold]6. Reports[/bold]")
    for path in paths:
        console.print(f"   {path}", soft_wrap=True)
