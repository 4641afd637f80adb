"""Genome build of a VCF: GRCh38 (PharmCAT's only build) or GRCh37 (via PyPGx coordinates).

Evidence, strongest first: the `##reference` / `##contig assembly=` header text, `##contig`
lengths (GRC assembly reports), and the reference alleles at the PGx positions of each build.
A header that contradicts the data is refused rather than producing wrong calls.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from pmed.errors import InputError
from pmed.pgx.definitions import GeneDefinition, contig_lengths
from pmed.pgx.vcf_reader import VcfData, VcfHeader, norm_chrom

__all__ = ["BUILDS", "Position", "detect_build", "positions_by_build"]

BUILDS = ("GRCh38", "GRCh37")

_B38 = re.compile(r"grch38|hg38|\bb38\b|hs38|grch_38|38\.p\d", re.I)
_B37 = re.compile(r"grch37|hg19|\bb37\b|hs37|human_g1k_v37|grch_37|37\.p\d|ncbi37", re.I)


@dataclass(frozen=True, slots=True)
class Position:
    gene: str
    index: int  # index into GeneDefinition.variants
    ref: str


def positions_by_build(
    genes: Iterable[GeneDefinition],
) -> dict[str, dict[tuple[str, int], list[Position]]]:
    """(chrom, pos) → definition positions, per build."""
    out: dict[str, dict[tuple[str, int], list[Position]]] = {b: {} for b in BUILDS}
    for g in genes:
        chrom = norm_chrom(g.chromosome)
        for i, v in enumerate(g.variants):
            out["GRCh38"].setdefault((chrom, v.position), []).append(Position(g.gene, i, v.ref))
            if v.grch37_position is not None:
                ref37 = v.grch37_ref or v.ref
                out["GRCh37"].setdefault((chrom, v.grch37_position), []).append(
                    Position(g.gene, i, ref37)
                )
    return out


def _header_build(header: VcfHeader, path: str) -> tuple[str | None, str]:
    named: str | None = None
    if header.reference:
        is38, is37 = bool(_B38.search(header.reference)), bool(_B37.search(header.reference))
        if is38 != is37:
            named = "GRCh38" if is38 else "GRCh37"
    by_length: str | None = None
    votes = {b: 0 for b in BUILDS}
    for chrom, length in header.contigs.items():
        for b in BUILDS:
            if contig_lengths()[b].get(chrom) == length:
                votes[b] += 1
    if votes["GRCh38"] != votes["GRCh37"]:
        by_length = max(votes, key=lambda b: votes[b])
    if named and by_length and named != by_length:
        raise InputError(
            f"the header names {named} (##reference={header.reference}) but its ##contig "
            f"lengths are {by_length}'s; fix the header before calling",
            file=path,
        )
    build = named or by_length
    how = "header ##reference" if named else "##contig lengths" if by_length else ""
    return build, how


def detect_build(
    data: VcfData, maps: dict[str, dict[tuple[str, int], list[Position]]]
) -> tuple[str, str]:
    """Return (build, how it was decided). Raises InputError for no PGx data or a wrong build."""
    matched = {b: 0 for b in BUILDS}
    seen = {b: 0 for b in BUILDS}
    for key, sites in data.sites.items():
        for b in BUILDS:
            wanted = maps[b].get(key)
            if not wanted:
                continue
            for site in sites:
                if site.block:
                    continue
                seen[b] += 1
                if any(site.ref.startswith(p.ref) or p.ref.startswith(site.ref) for p in wanted):
                    matched[b] += 1
    if not data.sites:
        raise InputError(
            "no PGx positions: the VCF has no records at any PharmCAT allele-definition "
            "position (GRCh38 or GRCh37)",
            file=data.path,
        )
    declared, how = _header_build(data.header, data.path)

    def rate(b: str) -> float:
        return matched[b] / seen[b] if seen[b] else 0.0

    by_alleles = max(BUILDS, key=lambda b: (rate(b) >= 0.9, matched[b], rate(b)))
    if declared is not None:
        other = "GRCh37" if declared == "GRCh38" else "GRCh38"
        poor = seen[declared] == 0 or (seen[declared] >= 3 and rate(declared) < 0.6)
        if poor and matched[other] >= 3 and rate(other) >= 0.9:
            raise InputError(
                f"wrong genome build: the header declares {declared} ({how}) but the reference "
                f"alleles match {other} at {matched[other]} of {seen[other]} PGx positions "
                f"(and {declared} at {matched[declared]} of {seen[declared]}); "
                "refusing to call rather than give wrong results",
                file=data.path,
            )
        return declared, how
    if matched[by_alleles] == 0:
        if any(s.block for sites in data.sites.values() for s in sites):
            return "GRCh38", "default (only gVCF reference blocks)"
        raise InputError(
            "no PGx positions: no record's reference allele matches a PharmCAT definition "
            "position in GRCh38 or GRCh37",
            file=data.path,
        )
    return by_alleles, (
        f"reference alleles ({matched[by_alleles]} of {seen[by_alleles]} positions match)"
    )
