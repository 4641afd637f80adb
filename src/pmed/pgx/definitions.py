"""PharmCAT named-allele definitions as typed objects (knowledge file `pgx/definitions`).

PharmCAT's convention (PharmCAT docs, "Named Allele Matcher 101"): `alleles[i]` is the VCF allele
of the named allele at `variants[i]`; `null` means the allele is not defined there and takes the
reference; IUPAC ambiguity codes (R, Y, …) accept either base. The score of a named allele is
the number of positions it defines; the reference allele defines all of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from pmed.knowledge import load

__all__ = ["GeneDefinition", "NamedAllele", "Variant", "gene_definitions", "knowledge_label"]

_IUPAC = {
    "R": "AG",
    "Y": "CT",
    "S": "CG",
    "W": "AT",
    "K": "GT",
    "M": "AC",
    "B": "CGT",
    "D": "AGT",
    "H": "ACT",
    "V": "ACG",
    "N": "ACGT",
}


@dataclass(frozen=True, slots=True)
class Variant:
    position: int
    grch37_position: int | None
    ref: str
    alts: tuple[str, ...]
    rsid: str | None
    hgvs: str | None
    grch37_ref: str | None = None

    @property
    def label(self) -> str:
        return self.rsid or self.hgvs or str(self.position)


@dataclass(frozen=True, slots=True)
class NamedAllele:
    name: str
    function: str | None
    #: per position, the accepted VCF alleles (reference filled in where the definition is null)
    accepts: tuple[frozenset[str], ...]
    defined: tuple[bool, ...]  # position defined by the allele (counts for the score)
    reference: bool
    #: positions (variant indices) where the allele accepts something other than the reference
    nontrivial: tuple[int, ...] = ()
    nt_mask: int = 0  # the same as a bit mask over variant indices
    defined_mask: int = 0


@dataclass(slots=True)
class GeneDefinition:
    gene: str
    chromosome: str  # "chr10"
    variants: list[Variant]
    alleles: list[NamedAllele]
    grch37_offset: int | None
    called_from_vcf: bool
    required_positions: frozenset[int] = frozenset()
    ignored_positions: frozenset[int] = frozenset()
    ignored_alleles: frozenset[str] = frozenset()
    unphased_priorities: list[tuple[frozenset[str], str]] = field(default_factory=list)
    extra_positions: list[dict[str, Any]] = field(default_factory=list)
    suballeles: dict[str, str] = field(default_factory=dict)  # "*45.001" -> "*45"

    @property
    def reference_allele(self) -> NamedAllele:
        return next(a for a in self.alleles if a.reference)


_ACCEPTS: dict[tuple[str | None, str], frozenset[str]] = {}


def _accepts(value: str | None, ref: str) -> frozenset[str]:
    """The VCF alleles a definition cell accepts (shared objects: RYR1 alone has 100k cells)."""
    key = (value, ref)
    hit = _ACCEPTS.get(key)
    if hit is None:
        if value is None:
            hit = frozenset((ref,))
        elif len(value) == 1 and value in _IUPAC:
            hit = frozenset(_IUPAC[value])
        else:
            hit = frozenset((value,))
        hit = _ACCEPTS.setdefault(key, hit)
    return hit


def _named(a: dict[str, Any], variants: list[Variant]) -> NamedAllele:
    accepts = tuple(_accepts(x, v.ref) for x, v in zip(a["alleles"], variants, strict=True))
    defined = tuple(x is not None for x in a["alleles"])
    nontrivial = tuple(
        i for i, (acc, v) in enumerate(zip(accepts, variants, strict=True)) if acc != {v.ref}
    )
    return NamedAllele(
        name=a["name"],
        function=a.get("function"),
        accepts=accepts,
        defined=defined,
        reference=bool(a.get("reference")),
        nontrivial=nontrivial,
        nt_mask=sum(1 << i for i in nontrivial),
        defined_mask=sum(1 << i for i, d in enumerate(defined) if d),
    )


def _gene(name: str, raw: dict[str, Any]) -> GeneDefinition:
    variants = [
        Variant(
            position=v["position"],
            grch37_position=v.get("grch37_position"),
            ref=v["ref"],
            alts=tuple(v["alts"]),
            rsid=v.get("rsid"),
            hgvs=v.get("hgvs"),
            grch37_ref=v.get("grch37_ref"),
        )
        for v in raw["variants"]
    ]
    ex = raw.get("exemptions", {})
    ignored_alleles = frozenset(ex.get("ignored_alleles", ()))
    alleles = [_named(a, variants) for a in raw["alleles"] if a["name"] not in ignored_alleles]
    return GeneDefinition(
        gene=name,
        chromosome=raw["chromosome"],
        variants=variants,
        alleles=alleles,
        grch37_offset=raw.get("grch37_offset"),
        called_from_vcf=bool(raw.get("called_from_vcf", True)),
        required_positions=frozenset(ex.get("required_positions", ())),
        ignored_positions=frozenset(ex.get("ignored_positions", ())),
        ignored_alleles=ignored_alleles,
        unphased_priorities=[
            (frozenset(p["options"]), p["pick"]) for p in ex.get("unphased_priorities", ())
        ],
        extra_positions=list(ex.get("extra_positions", ())),
        suballeles=dict(raw.get("suballeles", {})),
    )


@lru_cache(maxsize=1)
def gene_definitions() -> dict[str, GeneDefinition]:
    """Every gene PharmCAT defines, keyed by symbol (CYP2D6 included; only outside-called)."""
    data = load("pgx/definitions").data
    return {name: _gene(name, raw) for name, raw in data["genes"].items()}


@lru_cache(maxsize=1)
def contig_lengths() -> dict[str, dict[str, int]]:
    return dict(load("pgx/definitions").data["contig_lengths"])


def knowledge_label() -> str:
    return load("pgx/definitions").provenance.label()
