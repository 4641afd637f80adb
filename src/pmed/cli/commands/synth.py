"""`pmed synth`: write a synthetic cohort (FHIR, VCFs, truth table) reproducibly by seed."""

from __future__ import annotations

import time
from pathlib import Path

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from pmed.cli._output import console, err_console, print_json
from pmed.record.synth import generate_cohort, parse_under_record
from pmed.record.synth.writer import write_cohort


@click.command("synth")
@click.option(
    "--patients",
    "-n",
    type=click.IntRange(min=1),
    default=100,
    show_default=True,
    help="Number of patients.",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed.")
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    required=True,
    help="Output directory (created).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["bundle", "ndjson"]),
    default="bundle",
    show_default=True,
    help="One transaction Bundle per patient, or Bulk NDJSON.",
)
@click.option("--no-vcf", is_flag=True, help="Write no VCFs (and draw no genotypes).")
@click.option(
    "--multi-vcf",
    is_flag=True,
    help="One multi-sample vcf/cohort.vcf.gz instead of one VCF per patient.",
)
@click.option(
    "--under-record",
    "under_record",
    metavar="GROUP:FRACTION",
    help="Leave this fraction of one group's outcome events unrecorded "
    "(e.g. black:0.5, female:0.3), for fairness-audit tests.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def command(
    patients: int,
    seed: int,
    out: Path,
    fmt: str,
    no_vcf: bool,
    multi_vcf: bool,
    under_record: str | None,
    as_json: bool,
) -> None:
    """Generate a realistic synthetic cohort with known outcome risks.

    \b
    Writes OUT/fhir (a FHIR transaction Bundle per patient, or NDJSON with --format ndjson),
    OUT/vcf (GRCh38 pharmacogene VCFs), OUT/truth.parquet + truth.csv (features, true
    10-year risks, events, drawn diplotypes) and OUT/cohort.json. The same seed gives the same
    cohort. Outcomes come from pmed.record.synth.outcomes.true_risk.

    \b
    Examples:
      pmed synth --patients 1000 --seed 1 --out cohort/
      pmed synth -n 100000 --format ndjson --no-vcf --out big/
      pmed synth -n 20000 --under-record black:0.5 --out biased/
    """
    bias = parse_under_record(under_record) if under_record else None
    started = time.perf_counter()
    cohort = generate_cohort(patients, seed, under_record=bias, genetics=not no_vcf)
    generated = time.perf_counter()
    show = not as_json and console.is_terminal
    with Progress(
        TextColumn("[bold]synth"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err_console,
        disable=not show,
    ) as progress:
        task = progress.add_task("", total=patients)
        summary = write_cohort(
            cohort,
            out,
            fmt=fmt,
            vcf="none" if no_vcf else ("multi" if multi_vcf else "patient"),
            progress=lambda k: progress.update(task, advance=k),
        )
    finished = time.perf_counter()
    report = summary.as_dict() | {
        "seed": seed,
        "seconds_generate": round(generated - started, 3),
        "seconds_write": round(finished - generated, 3),
        "patients_per_second": round(patients / max(finished - started, 1e-9)),
    }
    if as_json:
        print_json(report)
        return
    console.print(
        f"{patients} patients ({summary.resources} resources) written to {out} "
        f"in {finished - started:.1f} s"
    )
    for rtype, count in summary.resource_counts.items():
        console.print(f"  {rtype:<20} {count:>9}")
    rates = ", ".join(f"{k} {v:.1%}" for k, v in summary.outcome_rates.items())
    console.print(f"  recorded 10-year outcomes: {rates}")
    console.print(f"  VCF files: {summary.vcf_files}; truth table: {out / 'truth.parquet'}")
