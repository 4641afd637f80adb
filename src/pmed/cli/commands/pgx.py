"""`pmed pgx …`: pharmacogenomic calls from a VCF (and, below, CPIC recommendations).

pmed pgx call VCF [--outside TSV] [--sample S] [--format tsv|json|fhir]
"""

from __future__ import annotations

import itertools
import json
import sys
from pathlib import Path
from typing import Any

import click

__all__ = ["command"]


@click.group(name="pgx")
def command() -> None:
    """Pharmacogenomics: call pharmacogenes from a VCF; CPIC drug recommendations."""


# ---- calling (PGx-calling area) -------------------------------------------------------------

TSV_COLUMNS = (
    "sample",
    "gene",
    "diplotype",
    "phenotype",
    "activity_score",
    "lookup_key",
    "missing_positions",
    "source",
    "build",
    "notes",
)


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return text.replace("\t", " ").replace("\n", " ")


def _tsv_rows(results: list[Any]) -> list[list[str]]:
    rows = []
    for r in results:
        for gene, c in sorted(r.genes.items()):
            rows.append(
                [
                    r.sample,
                    gene,
                    "; ".join(c.diplotypes),
                    _cell(c.phenotype),
                    _cell(c.activity_score),
                    _cell(c.lookup_key),
                    ",".join(str(p) for p in c.missing_positions),
                    c.source,
                    r.build,
                    _cell("; ".join(c.notes)),
                ]
            )
    return rows


@command.command(name="call")
@click.argument("vcf", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--outside",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Outside calls TSV: gene, diplotype, phenotype, activity score.",
)
@click.option("--sample", help="Call only this sample of a multi-sample VCF.")
@click.option(
    "--format", "fmt", type=click.Choice(["tsv", "json", "fhir"]), default="tsv", show_default=True
)
@click.option("--patient", help="Patient id for --format fhir (default: the sample name).")
def call_command(
    vcf: Path, outside: Path | None, sample: str | None, fmt: str, patient: str | None
) -> None:
    """Call diplotypes, phenotypes and activity scores for every sample and gene of VCF.

    Plain or bgzipped VCF (a .tbi/.csi index beside it is used), GRCh38 or GRCh37 (detected).
    TSV: one row per sample and gene; tied diplotypes are joined with '; '.
    """
    from pmed.pgx import iter_calls

    stream = iter_calls(vcf, outside=outside, sample=sample)
    first = next(stream, None)  # errors surface before any output
    results = itertools.chain([first] if first is not None else [], stream)
    out = sys.stdout
    if fmt == "tsv":
        out.write("\t".join(TSV_COLUMNS) + "\n")
        for r in results:
            for row in _tsv_rows([r]):
                out.write("\t".join(row) + "\n")
    elif fmt == "json":
        out.write(json.dumps([r.to_dict() for r in results], indent=2) + "\n")
    else:
        from pmed.pgx import gene_findings
        from pmed.record.fhir_output.genomics import sample_observations

        entries = []
        for r in results:
            subject = f"Patient/{patient or r.sample}"
            for obs in sample_observations(gene_findings(r, subject=subject), subject):
                entries.append({"fullUrl": f"Observation/{obs['id']}", "resource": obs})
        bundle = {"resourceType": "Bundle", "type": "collection", "entry": entries}
        out.write(json.dumps(bundle, indent=2) + "\n")


# ---- recommendations (recommender area): `pmed pgx drugs`, `pmed pgx recommend` below -------
from pmed.cli.commands._pgx_recommend import register  # noqa: E402

register(command)
