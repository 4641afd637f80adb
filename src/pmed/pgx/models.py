"""Typed, serialisable outputs of the PGx calling stages (reader → matcher → phenotyper).

Staged as in PharmCAT (Sangkuhl et al., Clin Pharmacol Ther 2020;107:203-210): each stage's output
can be fed in from outside, e.g. a CYP2D6 diplotype called by another tool.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["GeneCall", "Genotype", "SampleCalls"]


@dataclass(frozen=True, slots=True)
class Genotype:
    """One sample's call at one definition position, as VCF allele strings.

    `alleles` has one entry per chromosome copy (one for haploid chrX/chrY calls); `None` is a
    missing allele (`.`). `phase_set` is the PS value for phased calls (0 when phased without
    PS: all such calls of a sample form one set), `None` when unphased.
    """

    alleles: tuple[str | None, ...]
    phased: bool = False
    phase_set: int | None = None


@dataclass(slots=True)
class GeneCall:
    """The call for one gene of one sample (PharmCAT's GeneReport, reduced)."""

    gene: str
    diplotypes: list[str] = field(default_factory=list)  # ties: several, best first
    phenotype: str | None = None
    activity_score: str | None = None
    lookup_key: str | None = None
    missing_positions: list[int] = field(default_factory=list)  # GRCh38 positions
    source: str = "vcf"  # "vcf" or "outside"
    score: int | None = None
    phased: bool = False
    notes: list[str] = field(default_factory=list)
    variants: dict[str, str] = field(default_factory=dict)  # rsid/position -> "A/G"

    @property
    def called(self) -> bool:
        return bool(self.diplotypes) or self.phenotype is not None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(slots=True)
class SampleCalls:
    """All gene calls for one sample of one VCF."""

    sample: str
    genes: dict[str, GeneCall] = field(default_factory=dict)
    build: str = "GRCh38"
    source_file: str | None = None
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "sample": self.sample,
            "build": self.build,
            "source_file": self.source_file,
            "notes": list(self.notes),
            "genes": {g: c.to_dict() for g, c in self.genes.items()},
        }
