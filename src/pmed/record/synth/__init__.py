"""Synthetic cohorts for demos, tests and model training (`pmed synth`).

`generate_cohort(n, seed)` draws demographics, correlated risk factors, outcomes from a known
risk function (`outcomes.true_risk`) and pharmacogenotypes (`genetics`), reproducibly by seed;
`write_cohort` writes FHIR (transaction bundles or NDJSON), VCFs and the truth table.
"""

from __future__ import annotations

from pmed.record.synth.cohort import SynthCohort, UnderRecord, generate_cohort, parse_under_record
from pmed.record.synth.outcomes import FEATURES, OUTCOMES, linear_predictor, true_risk

__all__ = [
    "FEATURES",
    "OUTCOMES",
    "SynthCohort",
    "UnderRecord",
    "generate_cohort",
    "linear_predictor",
    "parse_under_record",
    "true_risk",
]
