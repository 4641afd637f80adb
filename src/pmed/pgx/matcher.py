"""Named-allele matching: the diplotypes that best explain one sample's genotypes for one gene.

Follows PharmCAT's NamedAlleleMatcher (Sangkuhl et al., Clin Pharmacol Ther 2020;107:203-210;
PharmCAT docs "Named Allele Matcher 101"): a named allele takes the reference base where its
definition is empty; positions missing from the sample are dropped from every definition (and
reported); an allele's score is the number of positions it defines among those present (the
reference allele defines them all); the diplotypes with the highest summed score win, ties are
all reported. Phased strands within one phase set are matched as given; unphased heterozygous
positions may fall on either strand.

Instead of enumerating 2^n strand phasings, each allele is turned into two bit masks over the
present positions (does it accept the first / the second allele of the genotype?). A pair of
alleles is consistent iff every position is covered in one orientation, and every phase set is
covered in one orientation as a whole: a few big-integer operations per pair, and pairs are
visited best-score-first with a bound, so a sample heterozygous everywhere stays fast.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pmed.pgx.definitions import GeneDefinition, NamedAllele
from pmed.pgx.models import Genotype

__all__ = ["MatchResult", "match_gene", "natural_key"]


@dataclass(slots=True)
class MatchResult:
    diplotypes: list[tuple[str, ...]] = field(default_factory=list)  # 1 name (haploid) or 2
    score: int | None = None
    missing: list[int] = field(default_factory=list)  # GRCh38 positions with no usable call
    phased: bool = False
    haploid: bool = False
    notes: list[str] = field(default_factory=list)


def natural_key(name: str) -> tuple[object, ...]:
    """Star-allele-aware order (*2 < *10 < *80+*28), as PharmCAT's HaplotypeNameComparator."""
    return tuple(int(t) if t.isdigit() else t for t in re.split(r"(\d+)", name))


@dataclass(slots=True)
class _Prepared:
    """The sample at one gene, as bit masks over the gene's variant indices."""

    first: list[str | None]  # per variant index (None: missing)
    second: list[str | None]
    full: int  # present positions
    ref_first: int  # present positions whose first allele is the reference
    ref_second: int
    n_present: int
    blocks: list[int]  # masks of phase sets with >= 2 heterozygous positions


def _prepare(
    gene: GeneDefinition, genotypes: list[Genotype | None], result: MatchResult
) -> _Prepared | None:
    n = len(gene.variants)
    first: list[str | None] = [None] * n
    second: list[str | None] = [None] * n
    full = ref_first = ref_second = 0
    sets: dict[int, int] = {}
    ploidies: set[int] = set()
    het_unphased = False
    ignored = gene.ignored_positions
    for i, (v, g) in enumerate(zip(gene.variants, genotypes, strict=True)):
        if ignored and v.position in ignored:
            continue
        if g is None or not g.alleles or None in g.alleles:
            result.missing.append(v.position)
            continue
        alleles = g.alleles
        ploidies.add(len(alleles))
        a = alleles[0]
        b = alleles[1] if len(alleles) > 1 else a
        bit = 1 << i
        full |= bit
        first[i] = a
        second[i] = b
        if a == v.ref:
            ref_first |= bit
        if b == v.ref:
            ref_second |= bit
        if a != b:
            if g.phased:
                key = g.phase_set if g.phase_set is not None else 0
                sets[key] = sets.get(key, 0) | bit
            else:
                het_unphased = True
    result.haploid = ploidies == {1}
    result.phased = not het_unphased
    if not full:
        return None
    blocks = [m for m in sets.values() if m & (m - 1)]
    return _Prepared(first, second, full, ref_first, ref_second, full.bit_count(), blocks)


def _masks(allele: NamedAllele, prep: _Prepared) -> tuple[int, int, int]:
    """(positions where the allele accepts the first allele, … the second, score)."""
    full = prep.full
    nt = allele.nt_mask
    x = prep.ref_first & ~nt
    y = prep.ref_second & ~nt
    if nt & full:
        acc = allele.accepts
        for i in allele.nontrivial:
            a = prep.first[i]
            if a is None:
                continue
            if a in acc[i]:
                x |= 1 << i
            if prep.second[i] in acc[i]:
                y |= 1 << i
    score = prep.n_present if allele.reference else (allele.defined_mask & full).bit_count()
    return x, y, score


def match_gene(gene: GeneDefinition, genotypes: list[Genotype | None]) -> MatchResult:
    """Best-scoring named-allele diplotypes (or haplotypes, for haploid calls) of one sample."""
    result = MatchResult()
    prep = _prepare(gene, genotypes, result)
    missing_required = sorted(gene.required_positions.intersection(result.missing))
    if missing_required:
        result.notes.append(
            "required positions missing (PharmCAT gene exception): "
            + ", ".join(str(p) for p in missing_required)
        )
        return result
    if prep is None:
        result.notes.append("no call: no definition position has a usable genotype")
        return result
    full = prep.full
    cands: list[tuple[int, int, int, NamedAllele]] = []
    for allele in gene.alleles:
        x, y, score = _masks(allele, prep)
        if score == 0:
            continue  # every defining position is missing: cannot be told apart
        if result.haploid:
            if x == full:
                cands.append((score, x, y, allele))
        elif (x | y) == full:
            cands.append((score, x, y, allele))
    if not cands:
        result.notes.append("no named allele matches the genotypes (novel or unlisted variant)")
        return result
    cands = _drop_shadowed_reference(cands)
    cands.sort(key=lambda c: -c[0])
    if result.haploid:
        top = cands[0][0]
        result.score = top
        names = dict.fromkeys(
            gene.suballeles.get(c[3].name, c[3].name) for c in cands if c[0] == top
        )
        result.diplotypes = [(n,) for n in names]
        return result
    best_score = -1
    best: list[tuple[str, str]] = []
    blocks = prep.blocks
    n = len(cands)
    for i in range(n):
        si, xi, yi, ai = cands[i]
        if si + cands[i][0] < best_score:
            break
        for j in range(i, n):
            sj, xj, yj, aj = cands[j]
            total = si + sj
            if total < best_score:
                break
            fwd = xi & yj
            rev = yi & xj
            if (fwd | rev) != full:
                continue
            if blocks and not all((fwd & m) == m or (rev & m) == m for m in blocks):
                continue
            if total > best_score:
                best_score = total
                best = []
            best.append(_ordered(ai, aj, gene.suballeles))
    if not best:
        result.notes.append("no pair of named alleles explains the genotypes")
        return result
    result.score = best_score
    unique: list[tuple[str, ...]] = sorted(
        set(best), key=lambda d: (natural_key(d[0]), natural_key(d[1]))
    )
    result.diplotypes = _apply_priorities(gene, unique)
    return result


def _ordered(a: NamedAllele, b: NamedAllele, subs: dict[str, str]) -> tuple[str, str]:
    na, nb = subs.get(a.name, a.name), subs.get(b.name, b.name)
    if a.reference != b.reference:
        return (na, nb) if a.reference else (nb, na)
    return (na, nb) if natural_key(na) <= natural_key(nb) else (nb, na)


def _apply_priorities(gene: GeneDefinition, dips: list[tuple[str, ...]]) -> list[tuple[str, ...]]:
    """PharmCAT's `unphasedDiplotypePriorities` (e.g. NAT2): a known tie resolves to one pick."""
    if len(dips) < 2 or not gene.unphased_priorities:
        return dips
    names = {"/".join(d) for d in dips}
    for options, pick in gene.unphased_priorities:
        if names == options:
            return [d for d in dips if "/".join(d) == pick]
    return dips


def _drop_shadowed_reference(
    cands: list[tuple[int, int, int, NamedAllele]],
) -> list[tuple[int, int, int, NamedAllele]]:
    """When missing positions make the reference allele indistinguishable from a fully defined
    named allele (CYP2C19 *38 vs *1 without rs3758581), report the named allele, as PharmCAT
    does (NamedAlleleMatcherCyp2c19Test: s1s2rs3758581missing → *1/*2)."""
    ref = next((c for c in cands if c[3].reference), None)
    if ref is None:
        return cands
    if any(c is not ref and c[0] == ref[0] and c[1] == ref[1] and c[2] == ref[2] for c in cands):
        return [c for c in cands if c is not ref]
    return cands
