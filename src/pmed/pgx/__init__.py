"""Pharmacogenomics: VCF → named-allele diplotypes → phenotypes → CPIC recommendations.

Staged like PharmCAT (Sangkuhl et al., Clin Pharmacol Ther 2020;107:203-210): `call` runs the
reader, matcher and phenotyper; `gene_findings` turns a sample's calls into `Finding`s.
"""

from __future__ import annotations

from pmed.pgx.calling import call, iter_calls
from pmed.pgx.findings import gene_findings
from pmed.pgx.models import GeneCall, Genotype, SampleCalls
from pmed.pgx.outside import outside_call, read_outside

__all__ = [
    "GeneCall",
    "Genotype",
    "SampleCalls",
    "call",
    "gene_findings",
    "iter_calls",
    "outside_call",
    "read_outside",
]

# ---- recommender (CPIC guidelines) exports below this line: pmed.pgx.recommend -------------
from pmed.pgx.recommender import (
    DrugInfo,
    DrugRecommendation,
    drugs,
    lookup_from_calls,
    recommend,
    to_findings,
)

__all__ += [
    "DrugInfo",
    "DrugRecommendation",
    "drugs",
    "lookup_from_calls",
    "recommend",
    "to_findings",
]
