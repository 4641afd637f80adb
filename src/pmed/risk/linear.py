"""Shared arithmetic of the linear-predictor equations (PCE, revised PCE, Framingham, PREVENT).

Each equation computes a dict of named features (the same function serves a float patient and
numpy columns), then `terms` (one patient: coefficient × value per term, the explanation) or
`predictor_columns` (columns: per-row coefficients picked by group, accumulated term by term).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from pmed.findings import Contribution, Severity
from pmed.risk.bands import band_from

__all__ = ["band_and_severity", "predictor", "predictor_columns", "terms"]


def terms(
    features: Mapping[str, Any], coefs: Mapping[str, float], *, unit: str = "log-hazard"
) -> list[Contribution]:
    """Coefficient × value for every term with a non-zero coefficient, in equation order."""
    out = []
    for name, value in features.items():
        coef = float(coefs.get(name, 0.0))
        if coef == 0.0:
            continue
        out.append(
            Contribution(
                factor=name,
                value=round(float(value), 6),
                contribution=coef * float(value),
                unit=unit,
            )
        )
    return out


def predictor(contributions: Sequence[Contribution], constant: float = 0.0) -> float:
    return constant + sum(c.contribution for c in contributions)


def predictor_columns(
    features: Mapping[str, np.ndarray],
    coef_table: Sequence[Mapping[str, float]],
    group: np.ndarray,
    *,
    constant: str | None = None,
) -> np.ndarray:
    """Per-row linear predictor: `coef_table[group[i]]` applied to row i's features.

    `group` holds small non-negative ints; rows whose group is -1 get NaN.
    """
    n = group.shape[0]
    safe = np.where(group < 0, 0, group)
    lp = np.zeros(n)
    if constant is not None:
        lp += np.array([float(c[constant]) for c in coef_table])[safe]
    for name, value in features.items():
        coefs = np.array([float(c.get(name, 0.0)) for c in coef_table])
        if not coefs.any():
            continue
        if np.all(coefs == coefs[0]):
            lp += coefs[0] * value
        else:
            lp += coefs[safe] * value
    return np.where(group < 0, np.nan, lp)


def band_and_severity(bands: Sequence[Mapping[str, Any]], percent: float) -> tuple[str, Severity]:
    band = band_from(bands, percent)
    return str(band["band"]), Severity(band["severity"])
