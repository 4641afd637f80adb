"""`pmed pgx drugs` and `pmed pgx recommend`: CPIC recommendations from a VCF or known phenotypes.

Registered onto the `pmed pgx` group by `register(group)` (the group lives in `pgx.py`). The
commands only parse, call `pmed.pgx` and render; the clinical logic is in
`pmed.pgx.recommender`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from rich.table import Table

from pmed.cli._output import console, print_json
from pmed.errors import PmedError

__all__ = ["drugs_command", "recommend_command", "register"]


@click.command("drugs")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def drugs_command(as_json: bool) -> None:
    """List the drugs with CPIC guidelines: genes, RxNorm, CPIC level, guideline."""
    from pmed.pgx.recommender import drugs

    infos = drugs()
    if as_json:
        print_json([info.to_dict() for info in infos])
        return
    table = Table(title=f"CPIC drugs ({len(infos)})")
    for column in ("drug", "genes", "RxNorm", "CPIC level", "guideline"):
        table.add_column(column)
    for info in infos:
        level = ", ".join(f"{g} {lv}" for g, lv in info.cpic_level.items())
        table.add_row(
            info.name, ", ".join(info.genes), info.rxnorm or "", level, info.guideline.url
        )
    console.print(table)


def _parse_lookup(values: tuple[str, ...]) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in values:
        gene, sep, value = item.partition("=")
        if not sep or not gene.strip() or not value.strip():
            raise click.BadParameter(
                f"{item!r}: expected GENE=VALUE, e.g. CYP2C19='Poor Metabolizer' or DPYD=1.0",
                param_hint="--lookup",
            )
        out[gene.strip().upper()] = value.strip()
    return out


def _lookups_from_vcf(
    vcf: Path, outside: Path | None, sample: str | None
) -> list[tuple[str, dict[str, str]]]:
    import pmed.pgx as pgx

    call = getattr(pgx, "call", None)
    if call is None:
        raise PmedError("VCF calling (pmed.pgx.call) is not available in this pmed build")
    from pmed.pgx.recommender import lookup_from_calls

    results = call(vcf, outside=outside, sample=sample)
    return [(sample_calls.sample, lookup_from_calls(sample_calls)) for sample_calls in results]


@click.command("recommend")
@click.option("--vcf", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--drug",
    "drug_names",
    multiple=True,
    help="Drug name (repeatable); default: every drug the genes inform.",
)
@click.option(
    "--outside",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="TSV of outside calls (CYP2D6, HLA-A, HLA-B, MT-RNR1, or overrides).",
)
@click.option("--sample", help="Sample of a multi-sample VCF.")
@click.option(
    "--lookup",
    "lookups",
    multiple=True,
    metavar="GENE=VALUE",
    help="A known phenotype / activity score (repeatable), e.g. CYP2C19='Poor Metabolizer'; "
    "with --vcf it overrides that gene's call.",
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def recommend_command(
    vcf: Path | None,
    drug_names: tuple[str, ...],
    outside: Path | None,
    sample: str | None,
    lookups: tuple[str, ...],
    as_json: bool,
) -> None:
    """CPIC recommendations for a VCF's calls or for known phenotypes (--lookup)."""
    from pmed.pgx.recommender import recommend

    if vcf is None and not lookups:
        raise click.UsageError("give --vcf VCF or at least one --lookup GENE=VALUE")
    given = _parse_lookup(lookups)
    if vcf is not None:
        samples = _lookups_from_vcf(vcf, outside, sample)
    else:
        samples = [(sample or "lookup", {})]
    drugs_arg = list(drug_names) or None
    report: list[dict[str, Any]] = []
    for name, lookup in samples:
        merged = {**lookup, **given}
        recs = recommend(merged, drugs_arg)
        report.append(
            {
                "sample": name,
                "lookup": merged,
                "recommendations": [r.to_dict() for r in recs],
            }
        )
    if as_json:
        print_json(report if len(report) != 1 or vcf is not None else report[0])
        return
    for entry in report:
        lookup_text = ", ".join(f"{g}={v}" for g, v in entry["lookup"].items()) or "none"
        table = Table(title=f"{entry['sample']}: CPIC recommendations ({lookup_text})")
        for column in ("drug", "action", "strength", "population", "summary"):
            table.add_column(column, overflow="fold")
        for rec in entry["recommendations"]:
            table.add_row(
                rec["drug"],
                rec["action"],
                rec["strength"] or "",
                rec["population"],
                rec["summary"],
            )
        if not entry["recommendations"]:
            console.print(f"{entry['sample']}: no CPIC guideline uses these genes")
        else:
            console.print(table)


def register(group: click.Group) -> None:
    """Add `drugs` and `recommend` to the `pmed pgx` group."""
    group.add_command(drugs_command)
    group.add_command(recommend_command)
