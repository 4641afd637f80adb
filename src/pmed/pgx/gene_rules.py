"""Gene-specific calling rules on top of the named-allele matcher (PharmCAT gene exceptions).

- DPYD, RYR1, CACNA1S, CFTR are defined variant by variant. When no pair of named alleles explains
  the sample (e.g. three unphased variants), every variant allele present is listed and, per the
  CPIC DPYD guideline (Amstutz et al., Clin Pharmacol Ther 2018;103:210-216, "Calculation of the
  DPYD activity score") and PharmCAT's DPYD handling, the two lowest-function alleles form the
  diplotype; phased data yields the combination on each strand (`[a + b]`).
- SLCO1B1: without a named-allele diplotype, the rs4149056 (c.521T>C) genotype alone gives the
  function (CPIC SLCO1B1 guideline, Cooper-DeHoff et al., Clin Pharmacol Ther 2022;111:1007-1021,
  and PharmCAT's SLCO1B1 fallback).
- NAT2 required positions and unphased tie priorities, and G6PD's ignored positions/alleles, come
  from PharmCAT's `exemptions.json` and are applied in the matcher; G6PD haploid calls (males)
  yield one haplotype; single-variant genes (VKORC1 rs9923231, IFNL3 rs12979860, ABCG2
  rs2231142) are two named alleles each and need no rule.
"""

from __future__ import annotations

from pmed.pgx.definitions import GeneDefinition, NamedAllele
from pmed.pgx.matcher import MatchResult, match_gene, natural_key
from pmed.pgx.models import Genotype

__all__ = ["COMBINATION_GENES", "call_gene"]

COMBINATION_GENES = frozenset({"DPYD", "RYR1", "CACNA1S", "CFTR"})
SLCO1B1_RS4149056 = 21178615

#: lowest first; functions not listed sort after these
_FUNCTION_ORDER = [
    "no function",
    "malignant hyperthermia associated",
    "ivacaftor responsive",
    "decreased function",
    "uncertain function",
    "unknown function",
    "normal function",
]


def call_gene(
    gene: GeneDefinition,
    genotypes: list[Genotype | None],
    activity: dict[str, float] | None = None,
) -> MatchResult:
    """Match one gene of one sample and apply its PharmCAT/CPIC exceptions."""
    result = match_gene(gene, genotypes)
    if result.diplotypes or result.haploid:
        return result
    if gene.gene in COMBINATION_GENES:
        _combination(gene, genotypes, result, activity or {})
    elif gene.gene == "SLCO1B1":
        _slco1b1_fallback(gene, genotypes, result)
    if not result.diplotypes:
        found = present_alleles(gene, genotypes)
        if found:
            result.notes.append(
                "named-allele variants present: "
                + ", ".join(f"{a.name}{' (x2)' if len(on) == 2 else ''}" for a, on in found)
                + " (no pair of named alleles explains them; PharmCAT makes no call)"
            )
    return result


def _severity(allele: NamedAllele, activity: dict[str, float]) -> tuple[float, int]:
    fn = (allele.function or "").lower()
    rank = _FUNCTION_ORDER.index(fn) if fn in _FUNCTION_ORDER else len(_FUNCTION_ORDER)
    return (activity.get(allele.name, 9.0), rank)


def present_alleles(
    gene: GeneDefinition, genotypes: list[Genotype | None]
) -> list[tuple[NamedAllele, list[int]]]:
    """Non-reference named alleles whose variants are all present, with the strands (0/1) that
    carry them; for unphased data strand 0 means one copy, [0, 1] two. An allele whose variants
    are a subset of another present allele's is left out (the more specific one is reported)."""
    found: list[tuple[NamedAllele, list[int]]] = []
    for allele in gene.alleles:
        if allele.reference or not allele.nontrivial:
            continue
        strands = {0, 1}
        copies = 2
        phased = True
        for i in allele.nontrivial:
            g = genotypes[i]
            if g is None or any(a is None for a in g.alleles):
                strands, copies = set(), 0
                break
            alleles = g.alleles if len(g.alleles) > 1 else g.alleles * 2
            on = {s for s, a in enumerate(alleles[:2]) if a in allele.accepts[i]}
            copies = min(copies, len(on))
            if len(on) == 1 and not g.phased:
                phased = False
            strands &= on
        if not phased:
            strands = {0, 1} if copies == 2 else {0} if copies == 1 else set()
        if strands:
            found.append((allele, sorted(strands)))
    keep: list[tuple[NamedAllele, list[int]]] = []
    for a, carried in found:
        alt_a = set(a.nontrivial)
        if any(b is not a and alt_a < set(b.nontrivial) for b, _ in found):
            continue
        keep.append((a, carried))
    return keep


def _combination(
    gene: GeneDefinition,
    genotypes: list[Genotype | None],
    result: MatchResult,
    activity: dict[str, float],
) -> None:
    ref_allele = gene.reference_allele
    keep = present_alleles(gene, genotypes)
    if not keep:
        return
    phased = result.phased
    if phased:
        per_strand: list[list[str]] = [[], []]
        for a, on in keep:
            for k in on:
                per_strand[k].append(a.name)
        names = []
        for strand in per_strand:
            strand.sort(key=natural_key)
            names.append(
                ref_allele.name
                if not strand
                else strand[0]
                if len(strand) == 1
                else "[" + " + ".join(strand) + "]"
            )
        result.diplotypes = [(names[0], names[1])]
        result.notes.append("phased combination of variant alleles on each strand")
        return
    copies: list[NamedAllele] = []
    for a, on in keep:
        copies.extend([a] * (2 if len(on) == 2 else 1))
    copies.sort(key=lambda a: (_severity(a, activity), natural_key(a.name)))
    chosen = copies[:2] + [ref_allele] * (2 - len(copies[:2]))
    first, second = sorted(chosen, key=lambda a: (not a.reference, natural_key(a.name)))
    result.diplotypes = [(first.name, second.name)]
    if len(copies) > 2:
        result.notes.append(
            f"{len(copies)} variant alleles found unphased ("
            + ", ".join(a.name for a in copies)
            + "); the two lowest-function alleles are used (CPIC)"
        )


def _slco1b1_fallback(
    gene: GeneDefinition, genotypes: list[Genotype | None], result: MatchResult
) -> None:
    idx = next((i for i, v in enumerate(gene.variants) if v.position == SLCO1B1_RS4149056), None)
    if idx is None:
        return
    g = genotypes[idx]
    if g is None or any(a is None for a in g.alleles):
        return
    alleles = g.alleles if len(g.alleles) > 1 else g.alleles * 2
    n_c = sum(1 for a in alleles[:2] if a == "C")
    result.diplotypes = [(("*1", "*1"), ("*1", "*5"), ("*5", "*5"))[n_c]]
    result.notes.append(
        f"no full SLCO1B1 diplotype; called from rs4149056 alone ({'/'.join(map(str, alleles))}),"
        " as CPIC and PharmCAT do"
    )
