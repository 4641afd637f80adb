"""Outside calls: gene results from another tool, fed into the phenotyper stage.

PharmCAT's outside-call format (PharmCAT docs, "Outside Call Format"): a TSV with one line per
gene, columns gene, diplotype, phenotype, activity score (any may be empty but the gene; `#`
lines are comments). Used for CYP2D6 (structural variants a VCF cannot show), HLA-A/HLA-B,
MT-RNR1, and to override a VCF call for any gene.
"""

from __future__ import annotations

from pathlib import Path

from pmed.errors import InputError
from pmed.pgx.models import GeneCall
from pmed.pgx.phenotyper import phenotype_of

__all__ = ["outside_call", "read_outside"]

_ALIASES = {"HLAA": "HLA-A", "HLAB": "HLA-B", "MTRNR1": "MT-RNR1"}


def _gene_name(raw: str) -> str:
    key = raw.strip().upper()
    return _ALIASES.get(key.replace("-", "").replace("_", ""), key.replace("_", "-"))


def outside_call(
    gene: str,
    diplotype: str | None = None,
    phenotype: str | None = None,
    activity_score: str | None = None,
) -> GeneCall:
    """A GeneCall from an outside result; missing phenotype/score are derived from the diplotype."""
    gene = _gene_name(gene)
    call = GeneCall(gene=gene, source="outside")
    if diplotype:
        dips = [d.strip() for d in diplotype.split(";") if d.strip()]
        call.diplotypes = dips
        derived = phenotype_of(gene, [tuple(d.split("/")) for d in dips])
        call.phenotype = derived.phenotype
        call.activity_score = derived.activity_score
        call.lookup_key = derived.lookup_key
    if phenotype:
        call.phenotype = phenotype
        if not activity_score:
            call.lookup_key = phenotype
    if activity_score:
        call.activity_score = activity_score
        call.lookup_key = activity_score
    call.notes.append("outside call")
    return call


def read_outside(path: str | Path) -> dict[str, GeneCall]:
    """Parse an outside-call TSV into gene → GeneCall. InputError names the file and line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read outside-call file ({exc})", file=str(path)) from exc
    calls: dict[str, GeneCall] = {}
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        cols = [c.strip() for c in line.split("\t")]
        if n == 1 and cols[0].lower() == "gene":
            continue
        if len(cols) < 2 or not any(cols[1:4]):
            raise InputError(
                "an outside call needs a gene and a diplotype, phenotype or activity score",
                file=str(path),
                line=n,
            )
        cols += [""] * (4 - len(cols))
        call = outside_call(cols[0], cols[1] or None, cols[2] or None, cols[3] or None)
        if call.gene in calls:
            raise InputError(f"gene {call.gene} appears twice", file=str(path), line=n)
        calls[call.gene] = call
    return calls
