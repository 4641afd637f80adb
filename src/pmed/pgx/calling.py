"""The PGx calling pipeline: VCF → genotypes → named-allele diplotypes → phenotypes, per sample.

Stages as in PharmCAT (Sangkuhl et al., Clin Pharmacol Ther 2020;107:203-210): reader
(`vcf_reader`), build check (`build`), named-allele matcher (`matcher` + `gene_rules`),
phenotyper (`phenotyper`); outside calls (`outside`) override or add genes.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

from pmed.pgx.build import Position, detect_build, positions_by_build
from pmed.pgx.definitions import GeneDefinition, gene_definitions
from pmed.pgx.gene_rules import call_gene
from pmed.pgx.models import GeneCall, Genotype, SampleCalls
from pmed.pgx.outside import read_outside
from pmed.pgx.phenotyper import phenotype_of
from pmed.pgx.vcf_reader import Site, VcfData, norm_chrom, read_header, read_vcf

__all__ = ["SAMPLE_BATCH", "call", "iter_calls", "vcf_genes"]

#: samples read per pass over a wide VCF (2 bytes per sample and PGx site held at a time)
SAMPLE_BATCH = 20_000


def vcf_genes() -> list[GeneDefinition]:
    return [g for g in gene_definitions().values() if g.called_from_vcf]


@lru_cache(maxsize=1)
def _maps() -> dict[str, dict[tuple[str, int], list[Position]]]:
    return positions_by_build(vcf_genes())


@cache
def _activity(gene: str) -> dict[str, float]:
    from pmed.knowledge import load

    raw = load("pgx/phenotypes").data["genes"].get(gene, {}).get("alleles", {})
    out: dict[str, float] = {}
    for name, a in raw.items():
        try:
            out[name] = float(a["activity"])
        except (TypeError, ValueError):
            continue
    return out


@cache
def _extra_keys() -> list[tuple[tuple[str, int], tuple[str, str, dict]]]:
    """PharmCAT's extra positions (exemptions.json `extraPositions`, e.g. CYP2C9 rs12777823 for
    the CPIC warfarin guideline): reported, not used for matching. ((chrom, pos), (build, gene,
    variant))."""
    out = []
    for g in vcf_genes():
        chrom = norm_chrom(g.chromosome)
        for extra in g.extra_positions:
            out.append(((chrom, extra["position"]), ("GRCh38", g.gene, extra)))
            if g.grch37_offset is not None:
                pos37 = extra["position"] + g.grch37_offset
                out.append(((chrom, pos37), ("GRCh37", g.gene, extra)))
    return out


def _report_extra(data: VcfData, j: int, build: str, result: SampleCalls) -> None:
    for key, (b, gene, extra) in _extra_keys():
        if b != build or gene not in result.genes:
            continue
        label = extra.get("rsid") or f"{key[0]}:{extra['position']}"
        sites = data.sites.get(key)
        if not sites:
            result.genes[gene].notes.append(f"{label} (extra position) not in the VCF")
            continue
        site = sites[0]
        alleles = _site_alleles(site, extra["ref"])
        idx, phased = data.gt_table[site.codes[j]]
        text = ("|" if phased else "/").join(
            alleles[i] if i is not None and i < len(alleles) else "." for i in idx
        )
        result.genes[gene].variants[label] = text
        result.genes[gene].notes.append(f"{label} {text} (PharmCAT extra position, reported only)")


def _site_alleles(site: Site, def_ref: str) -> list[str]:
    if site.block:
        return [def_ref]
    alleles = [site.ref, *site.alts]
    if site.ref != def_ref and len(site.ref) > len(def_ref) and site.ref.startswith(def_ref):
        extra = site.ref[len(def_ref) :]
        alleles = [
            a[: -len(extra)] if a.endswith(extra) and len(a) > len(extra) else a for a in alleles
        ]
    return alleles


@dataclass(slots=True)
class _Slot:
    """One definition position of one gene, resolved against the VCF once for all samples;
    `cache` holds the Genotype of each (site, GT code, PS), shared by every sample."""

    sites: list[tuple[Site, list[str]]]
    cache: dict[tuple[int, int, int | None], Genotype]


_CACHE_LIMIT = 4096


def _slots(data: VcfData, gene: GeneDefinition, build: str) -> list[_Slot | None]:
    chrom = norm_chrom(gene.chromosome)
    out: list[_Slot | None] = []
    for v in gene.variants:
        pos = v.position if build == "GRCh38" else v.grch37_position
        sites = data.sites.get((chrom, pos)) if pos is not None else None
        if not sites:
            out.append(None)
            continue
        ref = v.ref if build == "GRCh38" else (v.grch37_ref or v.ref)
        out.append(_Slot([(s, _site_alleles(s, ref)) for s in sites], {}))
    return out


def _genotype(slot: _Slot | None, j: int, gt_table: list, nonref: list[bool]) -> Genotype | None:
    """The sample's genotype at a slot; of several records there, the first with a non-reference
    call (split multi-allelic records), else the first."""
    if slot is None:
        return None
    chosen: Genotype | None = None
    cache = slot.cache
    for n, (site, alleles) in enumerate(slot.sites):
        code = site.codes[j]
        ps = site.ps[j] if site.ps is not None else None
        key = (n, code, ps)
        g = cache.get(key)
        if g is None:
            idx, phased = gt_table[code]
            g = Genotype(
                tuple(alleles[i] if i is not None and i < len(alleles) else None for i in idx),
                phased,
                (ps if ps is not None else 0) if phased else None,
            )
            if len(cache) > _CACHE_LIMIT:  # per-sample PS values: keep the cache bounded
                cache.clear()
            cache[key] = g
        if nonref[code]:
            return g
        if chosen is None:
            chosen = g
    return chosen


def _copy(call: GeneCall) -> GeneCall:
    """An independent copy of a memoised call (samples with the same genotypes share work)."""
    return GeneCall(
        gene=call.gene,
        diplotypes=list(call.diplotypes),
        phenotype=call.phenotype,
        activity_score=call.activity_score,
        lookup_key=call.lookup_key,
        missing_positions=list(call.missing_positions),
        source=call.source,
        score=call.score,
        phased=call.phased,
        notes=list(call.notes),
        variants=dict(call.variants),
    )


def _nonref_flags(gt_table: list) -> list[bool]:
    return [any(i not in (0, None) for i in idx) for idx, _ in gt_table]


def _gene_call(gene: GeneDefinition, genotypes: list[Genotype | None]) -> GeneCall:
    match = call_gene(gene, genotypes, _activity(gene.gene))
    pheno = phenotype_of(gene.gene, match.diplotypes)
    call = GeneCall(
        gene=gene.gene,
        diplotypes=["/".join(d) for d in match.diplotypes],
        phenotype=pheno.phenotype,
        activity_score=pheno.activity_score,
        lookup_key=pheno.lookup_key,
        missing_positions=sorted(match.missing),
        score=match.score,
        phased=match.phased,
        notes=list(match.notes),
    )
    if not match.diplotypes:
        call.phenotype = "Indeterminate" if len(match.missing) < len(gene.variants) else None
        call.lookup_key = None
    for v, g in zip(gene.variants, genotypes, strict=True):
        if g is None:
            continue
        alleles = g.alleles
        if alleles[0] != v.ref or alleles[-1] != v.ref:
            if None in alleles and all(a is None or a == v.ref for a in alleles):
                continue
            sep = "|" if g.phased else "/"
            call.variants[v.label] = sep.join(a or "." for a in alleles)
    return call


def iter_calls(
    vcf_path: str | Path,
    *,
    outside: str | Path | None = None,
    sample: str | None = None,
) -> Iterator[SampleCalls]:
    """Yield one SampleCalls per sample (see `call`)."""
    outside_calls = read_outside(outside) if outside else {}
    n_samples = len(read_header(vcf_path).samples) if sample is None else 1
    if n_samples <= SAMPLE_BATCH:
        yield from _calls(vcf_path, outside_calls, sample=sample)
        return
    for start in range(0, n_samples, SAMPLE_BATCH):
        stop = min(n_samples, start + SAMPLE_BATCH)
        yield from _calls(vcf_path, outside_calls, sample_range=(start, stop))


def _calls(
    vcf_path: str | Path,
    outside_calls: dict[str, GeneCall],
    *,
    sample: str | None = None,
    sample_range: tuple[int, int] | None = None,
) -> Iterator[SampleCalls]:
    maps = _maps()
    wanted = set(maps["GRCh38"]) | set(maps["GRCh37"]) | {k for k, _ in _extra_keys()}
    data = read_vcf(vcf_path, wanted, sample=sample, sample_range=sample_range)
    build, how = detect_build(data, maps)
    genes = vcf_genes()
    slots = {g.gene: _slots(data, g, build) for g in genes}
    notes = [f"genome build {build} ({how})"]
    if build == "GRCh37":
        notes.append(
            "GRCh37 input: matched at GRCh37 coordinates (PyPGx variant table, gene offsets); "
            "positions are reported in GRCh38"
        )
    nonref = _nonref_flags(data.gt_table)
    memo: dict[str, dict[tuple[Genotype | None, ...], GeneCall]] = {g.gene: {} for g in genes}
    for j, name in enumerate(data.samples):
        result = SampleCalls(sample=name, build=build, source_file=str(vcf_path), notes=list(notes))
        for gene in genes:
            genotypes = tuple(_genotype(s, j, data.gt_table, nonref) for s in slots[gene.gene])
            seen = memo[gene.gene]
            done = seen.get(genotypes)
            if done is None:
                done = _gene_call(gene, list(genotypes))
                if len(seen) > _CACHE_LIMIT:
                    seen.clear()
                seen[genotypes] = done
            result.genes[gene.gene] = _copy(done)
        _report_extra(data, j, build, result)
        for gene_name, outside_call in outside_calls.items():
            call = copy.deepcopy(outside_call)
            if gene_name in result.genes:
                call.notes.append("overrides the call from the VCF")
            result.genes[gene_name] = call
        yield result


def call(
    vcf_path: str | Path,
    *,
    outside: str | Path | None = None,
    sample: str | None = None,
) -> list[SampleCalls]:
    """Call every PGx gene for every sample of a VCF (or only `sample`).

    `outside`: a PharmCAT-style outside-call TSV (CYP2D6, HLA-A, HLA-B, MT-RNR1, or any gene to
    override). Raises `InputError` naming the file for unreadable input, no PGx positions, an
    unknown sample or a wrong genome build; missing positions are reported per gene.
    """
    return list(iter_calls(vcf_path, outside=outside, sample=sample))
