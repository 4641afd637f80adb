"""Truth by construction: every pair of named alleles of every gene, written as a sample, must be
called back as exactly that diplotype (PharmCAT named-allele definitions, v3.1.1).

- Phased: both strands given (one phase set); the call must be the constructed pair.
- Unphased: only where the constructed pair is the *only* pair of named alleles consistent with
  the unphased genotype (checked here independently of the matcher, position by position), i.e.
  every phasing that named alleles can explain yields the same diplotype.

Justified exceptions: alleles defined only at positions PharmCAT's gene exceptions ignore
(G6PD "Chatham", RYR1 "c.14509C>G": `exemptions.json` ignoredPositions) cannot be called by
PharmCAT either. Concordance per gene is printed (`pytest -s`) and written to
`tests/pgx/concordance.tsv` when PMED_WRITE_CONCORDANCE is set.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pmed.pgx.calling import _activity, vcf_genes
from pmed.pgx.definitions import GeneDefinition, NamedAllele
from pmed.pgx.gene_rules import call_gene
from pmed.pgx.models import Genotype

GENES = {g.gene: g for g in vcf_genes()}


def _base(acc: frozenset[str], ref: str) -> str:
    return ref if ref in acc else sorted(acc)[0]


def _pattern(gene: GeneDefinition, allele: NamedAllele) -> list[str]:
    return [_base(allele.accepts[k], v.ref) for k, v in enumerate(gene.variants)]


def _uncallable(gene: GeneDefinition, allele: NamedAllele) -> bool:
    ignored = {i for i, v in enumerate(gene.variants) if v.position in gene.ignored_positions}
    return bool(allele.nontrivial) and set(allele.nontrivial) <= ignored


def _name(gene: GeneDefinition, allele: NamedAllele) -> str:
    return gene.suballeles.get(allele.name, allele.name)


def _unique_unphased(gene: GeneDefinition, pa: list[str], pb: list[str], i: int, j: int) -> bool:
    """True iff (i, j) is the only allele pair consistent with the unphased genotype."""
    refs = [v.ref for v in gene.variants]
    varied = {k for k in range(len(refs)) if pa[k] != refs[k] or pb[k] != refs[k]}

    def fits_strand(p: NamedAllele) -> bool:
        ks = varied | set(p.nontrivial)
        return all(pa[k] in p.accepts[k] or pb[k] in p.accepts[k] for k in ks)

    cands = [n for n, p in enumerate(gene.alleles) if fits_strand(p)]
    for x_i, x in enumerate(cands):
        for y in cands[x_i:]:
            if {x, y} == {i, j}:
                continue
            p, q = gene.alleles[x], gene.alleles[y]
            ks = varied | set(p.nontrivial) | set(q.nontrivial)
            if all(
                (pa[k] in p.accepts[k] and pb[k] in q.accepts[k])
                or (pb[k] in p.accepts[k] and pa[k] in q.accepts[k])
                for k in ks
            ):
                return False
    return True


def _concordance(gene: GeneDefinition) -> tuple[int, int, int, int, list[str]]:
    alleles = gene.alleles
    patterns = [_pattern(gene, a) for a in alleles]
    activity = _activity(gene.gene)
    ok_p = n_p = ok_u = n_u = 0
    failures: list[str] = []
    for i, a in enumerate(alleles):
        for j in range(i, len(alleles)):
            b = alleles[j]
            if _uncallable(gene, a) or _uncallable(gene, b):
                continue
            want = {(_name(gene, a), _name(gene, b)), (_name(gene, b), _name(gene, a))}
            pa, pb = patterns[i], patterns[j]
            phased = [Genotype((x, y), True, 1) for x, y in zip(pa, pb, strict=True)]
            got = call_gene(gene, phased, activity).diplotypes
            n_p += 1
            if len(got) == 1 and tuple(got[0]) in want:
                ok_p += 1
            elif len(failures) < 5:
                failures.append(f"phased {a.name}/{b.name} -> {got}")
            if not _unique_unphased(gene, pa, pb, i, j):
                continue
            unphased = [Genotype((x, y), False, None) for x, y in zip(pa, pb, strict=True)]
            got = call_gene(gene, unphased, activity).diplotypes
            n_u += 1
            if len(got) == 1 and tuple(got[0]) in want:
                ok_u += 1
            elif len(failures) < 5:
                failures.append(f"unphased {a.name}/{b.name} -> {got}")
    return ok_p, n_p, ok_u, n_u, failures


@pytest.mark.slow
@pytest.mark.parametrize("gene", sorted(GENES))
def test_every_named_allele_pair_is_called_back_exactly(gene: str) -> None:
    ok_p, n_p, ok_u, n_u, failures = _concordance(GENES[gene])
    line = f"{gene}\t{ok_p}/{n_p} phased\t{ok_u}/{n_u} unphased"
    print(line)
    if os.environ.get("PMED_WRITE_CONCORDANCE"):
        with (Path(__file__).parent / "concordance.tsv").open("a") as fh:
            fh.write(line + "\n")
    assert n_p > 0
    assert not failures, failures
    assert ok_p == n_p and ok_u == n_u


def test_every_g6pd_allele_as_a_hemizygous_male_is_called_back() -> None:
    g6pd = GENES["G6PD"]
    ok = n = 0
    for allele in g6pd.alleles:
        if _uncallable(g6pd, allele):
            continue
        pattern = _pattern(g6pd, allele)
        got = call_gene(g6pd, [Genotype((b,)) for b in pattern]).diplotypes
        n += 1
        ok += got == [(_name(g6pd, allele),)]
    print(f"G6PD hemizygous\t{ok}/{n}")
    assert ok == n
