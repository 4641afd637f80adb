"""The extracted cohort: a Polars frame (one row per patient) plus its feature dictionary.

Every feature is documented by a `FeatureSpec`: what it measures, the codes it was built from,
its unit, and how a missing value is represented. Flags and counts are 0 when nothing is found
in the lookback window; laboratory and vital-sign summaries are null (never imputed here) so that
each learner handles missingness explicitly (`pmed.models.train`).
"""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from pmed.population.cohort import CohortDefinition

__all__ = ["GROUP_COLUMNS", "FeatureSet", "FeatureSpec", "age_band_labels"]

GROUP_COLUMNS = ("sex", "race", "ethnicity", "race_ethnicity", "age_band")


@dataclass(frozen=True)
class FeatureSpec:
    """One column of the model matrix, documented for the feature dictionary and the model card."""

    name: str
    label: str
    kind: str  # demographic | condition | medication | observation | utilisation
    description: str
    unit: str | None = None
    codes: str | None = None
    missing: str = "0 when absent"

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


@dataclass
class FeatureSet:
    """A cohort with its outcome and features.

    `frame` columns: `patient_id`, `index_date`, `outcome` (0/1, absent for prediction-only
    extraction), `outcome_date`, the audit groups (`sex`, `race`, `ethnicity`, `race_ethnicity` —
    Hispanic whatever the race, else the race — and `age_band`), and
    one column per `features` entry, in that order.
    """

    definition: CohortDefinition
    frame: pl.DataFrame
    features: list[FeatureSpec]
    attrition: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def feature_names(self) -> list[str]:
        return [f.name for f in self.features]

    @property
    def n(self) -> int:
        return self.frame.height

    def matrix(self) -> np.ndarray:
        """The feature matrix as float64, nulls as NaN, columns in `feature_names` order."""
        if not self.features:
            return np.empty((self.n, 0))
        return (
            self.frame.select([pl.col(c).cast(pl.Float64) for c in self.feature_names])
            .to_numpy()
            .astype(np.float64)
        )

    def outcome(self) -> np.ndarray:
        return self.frame["outcome"].to_numpy().astype(np.int64)

    def groups(self) -> pl.DataFrame:
        return self.frame.select(["patient_id", *GROUP_COLUMNS])

    def fingerprint(self) -> str:
        """SHA-256 of the cohort (sorted by patient) and its outcome and features, as CSV text:
        the training-data fingerprint a registered model carries."""
        cols = [
            "patient_id",
            "index_date",
            *(["outcome"] if "outcome" in self.frame.columns else []),
            *self.feature_names,
        ]
        text = self.frame.select(cols).sort("patient_id").write_csv(float_precision=6)
        return hashlib.sha256(text.encode()).hexdigest()

    def dictionary(self) -> list[dict[str, Any]]:
        out = []
        for spec in self.features:
            column = self.frame[spec.name]
            entry = spec.as_dict()
            entry["missing_fraction"] = round(column.null_count() / max(self.n, 1), 4)
            out.append(entry)
        return out


def age_band_labels(edges: list[int]) -> list[str]:
    """`[40, 50, 60]` → `['<40', '40-49', '50-59', '60+']`."""
    labels = [f"<{edges[0]}"]
    labels += [f"{lo}-{hi - 1}" for lo, hi in itertools.pairwise(edges)]
    labels.append(f"{edges[-1]}+")
    return labels
