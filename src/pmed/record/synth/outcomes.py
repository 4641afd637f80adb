"""The KNOWN risk functions the synthetic outcomes are drawn from, and the simulation.

Each outcome has a proportional-hazards model with a constant (exponential) hazard
`λ = exp(lp)` per year from the index date, so the probability of an event within `horizon`
years is exactly `1 − exp(−λ·horizon)` (`true_risk`). The linear predictors `lp` below deliberately
contain what a main-effects logistic model on the raw features cannot fully capture:

* ASCVD (first MI or stroke): accelerating age effect (quadratic hinge after 65); systolic
  pressure whose slope is 50% steeper when treated, plus a quadratic hinge above 150 mmHg;
  log(TC/HDL); smoking whose effect shrinks with age (smoking × age); diabetes stronger in women
  (diabetes × sex) and with smoking; an HbA1c hinge above 7%; an eGFR hinge below 60; log UACR;
  a U-shaped BMI term; Black race; statin; prior ASCVD; atrial fibrillation.
* Type 2 diabetes (only for people without diabetes at index): BMI with saturation above 35;
  piecewise-linear HbA1c (steep above 5.7%); inverted-U age; Asian × overweight interaction;
  log(TG/HDL); treatment and smoking.
* Heart failure: age, systolic pressure, diabetes, BMI with a hinge above 30, atrial
  fibrillation, eGFR hinge, log UACR, smoking, prior ASCVD, sex and race.

Intercepts give roughly 9% 10-year ASCVD, 11% incident diabetes and 4% heart failure in the
generated 30-79-year-old cohort. Coefficient sizes are plausible (PCE/PREVENT-like hazard
ratios) but invented: this is a test oracle, not a clinical model.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

__all__ = ["FEATURES", "OUTCOMES", "linear_predictor", "simulate_events", "true_risk"]

OUTCOMES = ("ascvd", "diabetes", "heart_failure")

#: The per-patient features (at the index date, as written in the record) the risks use.
FEATURES = (
    "age", "female", "black", "hispanic", "asian", "current_smoker", "sbp", "bp_treated", "tc",
    "hdl", "tg", "diabetes", "hba1c", "egfr", "uacr", "bmi", "statin", "prior_ascvd", "af",
)  # fmt: skip


def _col(features: Any, name: str) -> np.ndarray:
    return np.asarray(features[name], dtype=float)


def _hinge(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, 0.0)


def linear_predictor(features: Mapping[str, Any] | Any, outcome: str = "ascvd") -> np.ndarray:
    """log hazard per year for `outcome`; `features` is any column-indexable frame (dict of
    arrays, Polars or pandas DataFrame) holding the columns in `FEATURES`."""
    f = {name: _col(features, name) for name in FEATURES}
    age, female, sbp, bmi = f["age"], f["female"], f["sbp"], f["bmi"]
    smoker, diabetes, treated = f["current_smoker"], f["diabetes"], f["bp_treated"]
    log_uacr = np.log(np.clip(f["uacr"], 1.0, None) / 10.0)
    if outcome == "ascvd":
        return np.asarray(
            -5.65
            + 0.068 * (age - 55)
            + 0.0012 * _hinge(age - 65) ** 2
            - 0.45 * female
            + 0.018 * (sbp - 120) * (1.0 + 0.5 * treated)
            + 0.0006 * _hinge(sbp - 145) ** 2
            + 0.04 * _hinge(105 - sbp)
            + 0.25 * treated
            + 0.9 * np.log(f["tc"] / f["hdl"] / 4.0)
            + smoker * (0.65 + 0.04 * (55 - age))
            + diabetes * (0.5 + 0.35 * female + 0.03 * (55 - age))
            + 0.15 * smoker * diabetes
            + 0.35 * _hinge(f["hba1c"] - 7.0)
            + 0.04 * _hinge(60.0 - f["egfr"])
            + 0.15 * log_uacr
            + 0.006 * (bmi - 26.0) ** 2
            + 0.20 * f["black"]
            - 0.25 * f["statin"]
            + 1.0 * f["prior_ascvd"]
            + 0.35 * f["af"]
        )
    if outcome == "diabetes":
        lp = (
            -4.95
            + 0.11 * (np.minimum(bmi, 35.0) - 28)
            + 0.03 * _hinge(bmi - 35.0)
            + 0.6 * _hinge(f["hba1c"] - 5.3)
            + 2.2 * _hinge(f["hba1c"] - 5.7)
            + 0.02 * (age - 50)
            - 0.0006 * (age - 50) ** 2
            + 0.45 * f["asian"] * (bmi >= 25)
            + 0.3 * f["black"]
            + 0.3 * f["hispanic"]
            + 0.25 * np.log(f["tg"] / f["hdl"])
            + 0.2 * treated
            + 0.25 * f["statin"]
            + 0.2 * smoker
        )
        return np.asarray(np.where(diabetes == 1, -np.inf, lp))
    if outcome == "heart_failure":
        return np.asarray(
            -6.63
            + 0.085 * (age - 55)
            + 0.015 * (sbp - 120)
            + 0.7 * diabetes
            + 0.05 * (bmi - 27)
            + 0.0025 * _hinge(bmi - 30) ** 2
            + 1.1 * f["af"]
            + 0.03 * _hinge(60.0 - f["egfr"])
            + 0.3 * log_uacr
            + 0.4 * smoker
            + 0.6 * f["prior_ascvd"]
            + 0.25 * f["black"]
            - 0.3 * female
        )
    raise ValueError(f"unknown outcome {outcome!r}; known: {', '.join(OUTCOMES)}")


def true_risk(
    features: Mapping[str, Any] | Any, outcome: str = "ascvd", horizon: float = 10.0
) -> np.ndarray:
    """The exact probability of `outcome` within `horizon` years of the index date."""
    rate = np.exp(linear_predictor(features, outcome))
    return np.asarray(1.0 - np.exp(-rate * horizon))


def simulate_events(
    rng: np.random.Generator, features: Mapping[str, Any] | Any, horizon: float = 10.0
) -> dict[str, np.ndarray]:
    """Draw each outcome's event time (years after index; +inf when none within `horizon`).

    Returns `{outcome}_years` arrays and `ascvd_type` ("mi"/"stroke"/"" per patient).
    """
    n = len(np.asarray(features["age"]))
    out: dict[str, np.ndarray] = {}
    for outcome in OUTCOMES:
        rate = np.exp(linear_predictor(features, outcome))
        with np.errstate(divide="ignore"):
            t = rng.exponential(1.0, n) / rate
        out[f"{outcome}_years"] = np.where(t <= horizon, t, np.inf)
    age = np.asarray(features["age"], dtype=float)
    p_stroke = np.clip(0.3 + 0.006 * (age - 55) + 0.08 * np.asarray(features["black"]), 0.1, 0.7)
    kind = np.where(rng.random(n) < p_stroke, "stroke", "mi")
    out["ascvd_type"] = np.where(np.isfinite(out["ascvd_years"]), kind, "").astype(object)
    return out
