"""Cohort queries over many patients: definitions, SQL extraction from the store, feature frames.

`pmed models train` = `extract_cohort` here, then `pmed.models.train` on the resulting frame.
"""

from pmed.population.cohort import CohortDefinition, load_definition
from pmed.population.extract import extract_cohort
from pmed.population.features import GROUP_COLUMNS, FeatureSet, FeatureSpec
from pmed.population.training import baseline_scores, to_training_data

__all__ = [
    "GROUP_COLUMNS",
    "CohortDefinition",
    "FeatureSet",
    "FeatureSpec",
    "baseline_scores",
    "extract_cohort",
    "load_definition",
    "to_training_data",
]
