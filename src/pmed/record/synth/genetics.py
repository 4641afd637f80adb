"""Synthetic pharmacogenotypes: haplotypes drawn from population allele frequencies, written as
GRCh38 VCFs of the pharmacogene positions.

All of the generator's genetics lives in this module. Allele definitions come from the knowledge
file `pgx/definitions` (PharmCAT's, one row per named allele, `null` = reference base), the
frequencies from `synth/pgx_allele_frequencies` (an approximation of the CPIC allele frequency
tables, see `tools/build_synth_pgx_frequencies.py`). Each patient gets two haplotypes per gene,
drawn independently (Hardy-Weinberg) from the frequencies of their population; the VCF holds,
at every defined position of the gene, the two haplotypes' bases as a phased genotype. The drawn
diplotypes are returned as ground truth, so a caller's output can be checked against them.
"""

from __future__ import annotations

import gzip
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import IO, Any

import numpy as np

from pmed.errors import KnowledgeError
from pmed.knowledge import load

__all__ = [
    "GeneModel",
    "Genotypes",
    "gene_models",
    "population_for_groups",
    "sample_genotypes",
    "write_multisample_vcf",
    "write_patient_vcfs",
]

_IUPAC = {
    "R": "AG", "Y": "CT", "S": "CG", "W": "AT", "K": "GT", "M": "AC",
    "B": "CGT", "D": "AGT", "H": "ACT", "V": "ACG", "N": "ACGT",
}  # fmt: skip


@dataclass(frozen=True)
class GeneModel:
    """One gene's variants and the allele index (0 = REF) each named allele carries at each."""

    gene: str
    chromosome: str
    positions: tuple[int, ...]
    refs: tuple[str, ...]
    alts: tuple[tuple[str, ...], ...]
    rsids: tuple[str | None, ...]
    allele_names: tuple[str, ...]
    table: np.ndarray  # (n_alleles, n_variants) int8
    frequencies: dict[str, np.ndarray]  # population -> (n_alleles,) probabilities

    def diplotype(self, a: int, b: int) -> str:
        lo, hi = sorted((a, b))
        return f"{self.allele_names[lo]}/{self.allele_names[hi]}"


@dataclass
class Genotypes:
    """Two haplotype (allele-index) arrays per gene for `samples`, with the gene models."""

    samples: list[str]
    models: list[GeneModel]
    haplotypes: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)

    def diplotypes(self, gene: str) -> list[str]:
        """The drawn diplotype of every sample for `gene`, e.g. `*1/*2` (ground truth)."""
        model = next(m for m in self.models if m.gene == gene)
        a, b = self.haplotypes[gene]
        lo, hi = np.minimum(a, b), np.maximum(a, b)
        names = np.asarray(model.allele_names, dtype=object)
        return [f"{x}/{y}" for x, y in zip(names[lo], names[hi], strict=True)]


def _allele_index(value: str | None, ref: str, alts: Sequence[str]) -> int | None:
    """The VCF allele index of a definition cell; None when it cannot be represented."""
    if value is None or value == ref:
        return 0
    if value in alts:
        return alts.index(value) + 1
    bases = _IUPAC.get(value)
    if bases is not None:
        if ref in bases:
            return 0
        for i, alt in enumerate(alts):
            if alt in bases:
                return i + 1
    return None


@lru_cache(maxsize=1)
def _frequency_data() -> dict[str, Any]:
    data: dict[str, Any] = load("synth/pgx_allele_frequencies").data
    return data


@lru_cache(maxsize=4)
def _models(genes: tuple[str, ...] | None) -> tuple[GeneModel, ...]:
    definitions = load("pgx/definitions").data["genes"]
    freq = _frequency_data()
    wanted = genes if genes is not None else tuple(freq["genes"])
    out: list[GeneModel] = []
    for gene in wanted:
        if gene not in definitions:
            raise KnowledgeError(f"pgx/definitions has no gene {gene!r}")
        spec = definitions[gene]
        variants = spec["variants"]
        refs = tuple(v["ref"] for v in variants)
        alts = tuple(tuple(v.get("alts") or ()) for v in variants)
        names: list[str] = []
        rows: list[list[int]] = []
        for allele in spec["alleles"]:
            cells = [
                _allele_index(value, refs[i], alts[i]) for i, value in enumerate(allele["alleles"])
            ]
            if any(c is None for c in cells):
                continue  # not representable as VCF alleles (structural); never drawn
            names.append(allele["name"])
            rows.append([int(c) for c in cells if c is not None])
        gene_freq = freq["genes"].get(gene, {"residual": None, "frequencies": {}})
        residual = gene_freq["residual"]
        if residual is None:
            residual = next((n for n, r in zip(names, rows, strict=True) if not any(r)), names[0])
        by_pop: dict[str, np.ndarray] = {}
        for pop in freq["populations"]:
            probs = np.zeros(len(names))
            for name, p in gene_freq["frequencies"].get(pop, {}).items():
                if name not in names:
                    raise KnowledgeError(f"{gene} allele {name!r} is not in pgx/definitions")
                probs[names.index(name)] += p
            probs[names.index(residual)] += 1.0 - probs.sum()
            by_pop[pop] = probs
        out.append(
            GeneModel(
                gene=gene,
                chromosome=spec["chromosome"],
                positions=tuple(int(v["position"]) for v in variants),
                refs=refs,
                alts=alts,
                rsids=tuple(v.get("rsid") for v in variants),
                allele_names=tuple(names),
                table=np.asarray(rows, dtype=np.int8).reshape(len(names), len(variants)),
                frequencies=by_pop,
            )
        )
    return tuple(out)


def gene_models(genes: Iterable[str] | None = None) -> list[GeneModel]:
    """Models of `genes` (default: every gene with synthetic frequencies)."""
    return list(_models(tuple(genes) if genes is not None else None))


def population_for_groups(groups: np.ndarray) -> np.ndarray:
    """Map the generator's race/ethnicity groups (white, black, …) to CPIC populations."""
    mapping = _frequency_data()["group_map"]
    return np.asarray([mapping.get(str(g), "european") for g in groups], dtype=object)


def sample_genotypes(
    rng: np.random.Generator,
    samples: Sequence[str],
    populations: np.ndarray,
    genes: Iterable[str] | None = None,
) -> Genotypes:
    """Draw two haplotypes per sample and gene from its population's allele frequencies."""
    n = len(samples)
    pops = np.asarray(populations, dtype=object)
    result = Genotypes(samples=list(samples), models=gene_models(genes))
    for model in result.models:
        haps = np.zeros((2, n), dtype=np.int16)
        cumulative = {p: np.cumsum(f) for p, f in model.frequencies.items()}
        draws = rng.random((2, n))
        for pop, cum in cumulative.items():
            mask = pops == pop
            if mask.any():
                idx = np.searchsorted(cum, draws[:, mask], side="right")
                haps[:, mask] = np.minimum(idx, len(cum) - 1)
        result.haplotypes[model.gene] = (haps[0], haps[1])
    return result


# ------------------------------------------------------------------------------------ VCF
def _header(models: Sequence[GeneModel], samples: Sequence[str]) -> str:
    lengths = load("pgx/definitions").data.get("contig_lengths", {})
    lines = [
        "##fileformat=VCFv4.2",
        "##source=pmed synth (synthetic genotypes; not real people)",
        "##reference=GRCh38",
    ]
    for chrom in _chromosomes(models):
        length = lengths.get(chrom)
        lines.append(
            f"##contig=<ID={chrom},length={length}>" if length else f"##contig=<ID={chrom}>"
        )
    lines.append('##INFO=<ID=PX,Number=.,Type=String,Description="Pharmacogene">')
    lines.append('##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">')
    lines.append("\t".join(["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO",
                            "FORMAT", *samples]))  # fmt: skip
    return "\n".join(lines) + "\n"


def _chrom_key(chrom: str) -> tuple[int, str]:
    tail = chrom.removeprefix("chr")
    return (int(tail), "") if tail.isdigit() else (100, tail)


def _chromosomes(models: Sequence[GeneModel]) -> list[str]:
    return sorted({m.chromosome for m in models}, key=_chrom_key)


def _rows(models: Sequence[GeneModel]) -> list[tuple[GeneModel, int, str]]:
    """(model, variant index, fixed VCF columns) in chromosome/position order."""
    rows = []
    for m in models:
        for i, pos in enumerate(m.positions):
            alt = ",".join(m.alts[i]) or "."
            rsid = m.rsids[i] or "."
            fixed = f"{m.chromosome}\t{pos}\t{rsid}\t{m.refs[i]}\t{alt}\t.\tPASS\tPX={m.gene}\tGT"
            rows.append((m, i, fixed))
    rows.sort(key=lambda r: (_chrom_key(r[0].chromosome), r[0].positions[r[1]]))
    return rows


def _gt_codes(genotypes: Genotypes, model: GeneModel, i: int) -> tuple[np.ndarray, np.ndarray]:
    a, b = genotypes.haplotypes[model.gene]
    return model.table[a, i], model.table[b, i]


def _open(path: Path) -> IO[str]:
    if path.suffix == ".gz":
        return gzip.open(path, "wt", encoding="ascii", compresslevel=1)
    return path.open("w", encoding="ascii")


def write_multisample_vcf(path: Path, genotypes: Genotypes) -> Path:
    """One VCF with every sample as a column."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with _open(path) as out:
        out.write(_header(genotypes.models, genotypes.samples))
        for model, i, fixed in _rows(genotypes.models):
            a, b = _gt_codes(genotypes, model, i)
            width = max(len(model.alts[i]) + 1, 2)
            labels = np.asarray([f"{x}|{y}" for x in range(width) for y in range(width)], object)
            gts = labels[a.astype(np.int64) * width + b]
            out.write(fixed + "\t" + "\t".join(gts.tolist()) + "\n")
    return path


def write_patient_vcfs(directory: Path, genotypes: Genotypes, *, gzip_files: bool = False) -> int:
    """One single-sample VCF per sample, `<directory>/<sample>.vcf[.gz]`; returns the count."""
    directory.mkdir(parents=True, exist_ok=True)
    rows = _rows(genotypes.models)
    width = 1 + max((len(m.alts[i]) for m, i, _ in rows), default=1)
    width = max(width, 2)
    # lines[v, code] is the whole line of variant v for genotype code a*width+b
    lines = np.empty((len(rows), width * width), dtype=object)
    for v, (_m, _i, fixed) in enumerate(rows):
        for x in range(width):
            for y in range(width):
                lines[v, x * width + y] = f"{fixed}\t{x}|{y}"
    codes = np.empty((len(rows), len(genotypes.samples)), dtype=np.int64)
    for v, (m, i, _fixed) in enumerate(rows):
        a, b = _gt_codes(genotypes, m, i)
        codes[v] = a.astype(np.int64) * width + b
    variant_index = np.arange(len(rows))
    suffix = ".vcf.gz" if gzip_files else ".vcf"
    header = _header(genotypes.models, ["\x00"])
    for s, sample in enumerate(genotypes.samples):
        body = lines[variant_index, codes[:, s]].tolist()
        text = header.replace("\x00", sample) + "\n".join(body) + "\n"
        data = text.encode("ascii")
        path = directory / f"{sample}{suffix}"
        if gzip_files:
            data = gzip.compress(data, compresslevel=1)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            os.write(fd, data)
        finally:
            os.close(fd)
    return len(genotypes.samples)
