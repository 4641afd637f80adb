"""Diplotype → phenotype, activity score and CPIC lookup key (PharmCAT's Phenotyper stage).

Tables from knowledge file `pgx/phenotypes` (PharmCAT/ClinPGx gene phenotype files, i.e. the CPIC
allele functionality and diplotype-phenotype tables; PyPGx for CYP2D6, G6PD and RYR1). CYP2D6
activity scores follow CPIC's activity-score system (Caudle et al., Clin Transl Sci
2020;13:116-124): the sum of the two allele activity values, times N for an `xN` duplication,
phenotype by PyPGx's activity ranges. HLA-A/HLA-B results are keyed by allele carriage
(`*57:01 positive`), as CPIC's HLA guidelines are.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from pmed.knowledge import load

__all__ = ["HLA_RISK_ALLELES", "Phenotype", "format_score", "phenotype_of"]

#: CPIC HLA guideline alleles (abacavir, allopurinol, carbamazepine/oxcarbazepine, phenytoin)
HLA_RISK_ALLELES = {"HLA-B": ("*15:02", "*57:01", "*58:01"), "HLA-A": ("*31:01",)}


@dataclass(frozen=True, slots=True)
class Phenotype:
    phenotype: str | None
    activity_score: str | None
    lookup_key: str | None


@dataclass(slots=True)
class _GeneTable:
    gene: str
    alleles: dict[str, dict[str, Any]]
    diplotypes: dict[str, list[str | None]]  # "a/b" -> [phenotype, activity score, lookup key]
    ranges: list[dict[str, Any]]

    def pair(self, a: str, b: str) -> tuple[str | None, str | None, str | None] | None:
        row = self.diplotypes.get(f"{a}/{b}") or self.diplotypes.get(f"{b}/{a}")
        if row is None:
            return None
        return (_clean(self.gene, row[0]), row[1], _clean(self.gene, row[2]))


def _clean(gene: str, value: str | None) -> str | None:
    if value and gene == "G6PD" and value.startswith("G6PD "):
        return value[5:]
    return value


@cache
def _table(gene: str) -> _GeneTable | None:
    genes = load("pgx/phenotypes").data["genes"]
    raw = genes.get(gene) or genes.get(gene.replace("-", "_"))
    if raw is None:
        return None
    return _GeneTable(gene, raw["alleles"], raw["diplotypes"], raw.get("activity_ranges", []))


@cache
def _by_score(gene: str) -> dict[str, tuple[str | None, str | None]]:
    """Activity score → (phenotype, lookup key), from the gene's diplotype table."""
    table = _table(gene)
    out: dict[str, tuple[str | None, str | None]] = {}
    for pheno, score, lookup in table.diplotypes.values() if table else ():
        if score is not None:
            out.setdefault(score, (_clean(gene, pheno), _clean(gene, lookup)))
    return out


@cache
def _by_function(gene: str) -> dict[tuple[str, str], tuple[str | None, str | None]]:
    """Pair of allele functions → (phenotype, lookup key), from the gene's diplotype table."""
    table = _table(gene)
    out: dict[tuple[str, str], tuple[str | None, str | None]] = {}
    if table is None:
        return out
    for dip, (pheno, _score, lookup) in table.diplotypes.items():
        parts = dip.split("/")
        if len(parts) != 2:
            continue
        fa = (table.alleles.get(parts[0]) or {}).get("function")
        fb = (table.alleles.get(parts[1]) or {}).get("function")
        if fa and fb:
            out.setdefault(_key(fa, fb), (_clean(gene, pheno), _clean(gene, lookup)))
    return out


def _key(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a <= b else (b, a)


def format_score(value: float) -> str:
    """CPIC's activity-score spelling: 1.0, 0.25, 1.5."""
    text = f"{value:.2f}".rstrip("0")
    return text + "0" if text.endswith(".") else text


_DUP = re.compile(r"^(.*?)x(\d+|N)$")


def _activity(table: _GeneTable, name: str) -> float | None:
    if name.startswith("[") and name.endswith("]"):
        # variants in cis (DPYD): the haplotype counts as its lowest-activity variant (CPIC DPYD
        # guideline 2017 update, "DPYD activity score" with more than one variant per allele)
        parts = [_activity(table, p.strip()) for p in name[1:-1].split(" + ")]
        known = [p for p in parts if p is not None]
        return min(known) if known and len(known) == len(parts) else None
    copies = 1
    m = _DUP.match(name)
    if m:
        name, n = m.group(1), m.group(2)
        copies = int(n) if n.isdigit() else 2
    value = (table.alleles.get(name) or {}).get("activity")
    try:
        return float(value) * copies if value is not None else None
    except ValueError:
        return None


def _single(gene: str, names: tuple[str, ...]) -> Phenotype:
    table = _table(gene)
    if gene in HLA_RISK_ALLELES:
        carried = {_hla2(n) for n in names}
        keys = [f"{a} {'positive' if a in carried else 'negative'}" for a in HLA_RISK_ALLELES[gene]]
        pos = [a for a in HLA_RISK_ALLELES[gene] if a in carried]
        pheno = (", ".join(pos) + " positive") if pos else "no CPIC risk allele"
        return Phenotype(pheno, None, "; ".join(keys))
    if table is None:
        return Phenotype(None, None, None)
    if len(names) == 1:  # haploid (G6PD male; MT-RNR1)
        entry = table.pair(names[0], "MALE")
        if entry:
            return Phenotype(entry[0], entry[1], entry[2])
        fn = (table.alleles.get(names[0]) or {}).get("function")
        return Phenotype(_clean(gene, fn), None, fn.lower() if fn and gene == "MT-RNR1" else fn)
    a, b = names
    entry = table.pair(a, b)
    if entry is not None:
        return Phenotype(*entry)
    if gene == "IFNL3":
        favourable = all("reference" in n for n in names)
        pheno = "Favorable response genotype" if favourable else "Unfavorable response genotype"
        return Phenotype(pheno, None, pheno)
    scores = [_activity(table, n) for n in names]
    if all(s is not None for s in scores):
        total = sum(s for s in scores if s is not None)
        score = format_score(total)
        if score in _by_score(gene):
            hit = _by_score(gene)[score]
            return Phenotype(hit[0], score, hit[1])
        for r in table.ranges:
            if (r["min"] is None or total >= r["min"]) and (
                r["below"] is None or total < r["below"]
            ):
                return Phenotype(r["phenotype"], score, score)
        return Phenotype(None, score, score)
    fns = [(table.alleles.get(n) or {}).get("function") for n in names]
    if fns[0] and fns[1]:
        by_fn = _by_function(gene).get(_key(fns[0], fns[1]))
        if by_fn:
            return Phenotype(by_fn[0], None, by_fn[1])
    return Phenotype(None, None, None)


def _hla2(name: str) -> str:
    """'HLA-B*57:01:01' / 'B*57:01' / '*57:01' → '*57:01' (two-field allele)."""
    body = name.split("*", 1)[1] if "*" in name else name
    return "*" + ":".join(body.split(":")[:2])


def phenotype_of(gene: str, diplotypes: list[tuple[str, ...]]) -> Phenotype:
    """Phenotype of a call; ties agreeing on a value keep it, otherwise values join with '; '."""
    if not diplotypes:
        return Phenotype(None, None, None)
    results = [_single(gene, d) for d in diplotypes]
    if len(results) == 1:
        return results[0]

    def merged(values: list[str | None]) -> str | None:
        distinct = list(dict.fromkeys(v for v in values if v is not None))
        return "; ".join(distinct) if distinct else None

    lookups = {r.lookup_key for r in results}
    return Phenotype(
        merged([r.phenotype for r in results]),
        merged([r.activity_score for r in results]),
        results[0].lookup_key if len(lookups) == 1 else None,
    )
