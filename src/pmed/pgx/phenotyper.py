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
from functools import lru_cache
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
    alleles: dict[str, dict[str, Any]]
    pairs: dict[tuple[str, str], tuple[str | None, str | None, str | None]]
    by_score: dict[str, tuple[str | None, str | None]]
    by_function: dict[tuple[str, str], tuple[str | None, str | None]]
    ranges: list[dict[str, Any]]


def _clean(gene: str, value: str | None) -> str | None:
    if value and gene == "G6PD" and value.startswith("G6PD "):
        return value[5:]
    return value


@lru_cache(maxsize=None)
def _table(gene: str) -> _GeneTable | None:
    genes = load("pgx/phenotypes").data["genes"]
    raw = genes.get(gene) or genes.get(gene.replace("-", "_"))
    if raw is None:
        return None
    alleles = raw["alleles"]
    pairs: dict[tuple[str, str], tuple[str | None, str | None, str | None]] = {}
    by_score: dict[str, tuple[str | None, str | None]] = {}
    by_function: dict[tuple[str, str], tuple[str | None, str | None]] = {}
    for dip, (pheno, score, lookup) in raw["diplotypes"].items():
        parts = dip.split("/")
        if len(parts) != 2:
            continue
        entry = (_clean(gene, pheno), score, _clean(gene, lookup))
        pairs[_key(parts[0], parts[1])] = entry
        if score is not None:
            by_score.setdefault(score, (entry[0], entry[2]))
        fa = (alleles.get(parts[0]) or {}).get("function")
        fb = (alleles.get(parts[1]) or {}).get("function")
        if fa and fb:
            by_function.setdefault(_key(fa, fb), (entry[0], entry[2]))
    return _GeneTable(alleles, pairs, by_score, by_function, raw.get("activity_ranges", []))


def _key(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a <= b else (b, a)


def format_score(value: float) -> str:
    """CPIC's activity-score spelling: 1.0, 0.25, 1.5."""
    text = f"{value:.2f}".rstrip("0")
    return text + "0" if text.endswith(".") else text


_DUP = re.compile(r"^(.*?)x(\d+|N)$")


def _activity(table: _GeneTable, name: str) -> float | None:
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
        entry = table.pairs.get(_key(names[0], "MALE"))
        if entry:
            return Phenotype(entry[0], entry[1], entry[2])
        fn = (table.alleles.get(names[0]) or {}).get("function")
        return Phenotype(_clean(gene, fn), None, fn.lower() if fn and gene == "MT-RNR1" else fn)
    a, b = names
    entry = table.pairs.get(_key(a, b))
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
        if score in table.by_score:
            pheno, lookup = table.by_score[score]
            return Phenotype(pheno, score, lookup)
        for r in table.ranges:
            if (r["min"] is None or total >= r["min"]) and (
                r["below"] is None or total < r["below"]
            ):
                return Phenotype(r["phenotype"], score, score)
        return Phenotype(None, score, score)
    fns = [(table.alleles.get(n) or {}).get("function") for n in names]
    if fns[0] and fns[1]:
        hit = table.by_function.get(_key(fns[0], fns[1]))
        if hit:
            return Phenotype(hit[0], None, hit[1])
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
