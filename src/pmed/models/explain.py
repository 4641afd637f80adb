"""Explanations: SHAP values (Lundberg & Lee, NeurIPS 2017) in log-odds, global and per patient.

LightGBM models use TreeSHAP (Lundberg et al., Nat Mach Intell 2020), exact for trees, scaled
by the model's logistic recalibration (an affine map of the log-odds, so additivity holds). L1
logistic models use SHAP's LinearExplainer with the training sample as background (interventional,
i.e. coefficient × (value − background mean) on the standardised scale); the contributions of a
feature's missing-value indicator are added to that feature, so every contribution is named by an
input a clinician recognises. A patient's log-odds = base value + the sum of contributions.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from pmed.models.train import TrainedModel

__all__ = ["describe_contribution", "global_importance", "shap_values", "top_contributors"]


def shap_values(
    model: TrainedModel, x: np.ndarray, background: np.ndarray | None = None
) -> tuple[np.ndarray, float]:
    """SHAP contributions (rows × original features, log-odds) and the base value."""
    import warnings

    import shap

    x = np.asarray(x, dtype=np.float64)
    if model.algorithm == "lightgbm":
        explainer = shap.TreeExplainer(model.estimator)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "output has changed to a list"
            values = explainer.shap_values(x)
        if isinstance(values, list):
            values = values[1]
        base = float(np.ravel(explainer.expected_value)[-1])
        a, b = model.recalibration()  # affine in log-odds: contributions scale, base shifts
        return np.asarray(values, dtype=np.float64) * b, a + b * base
    pipe = model.estimator
    prep = pipe[:-1]
    linear = pipe.named_steps["model"]
    bg = x if background is None else np.asarray(background, dtype=np.float64)
    bg_t = prep.transform(bg[: min(len(bg), 2000)])
    explainer = shap.LinearExplainer((linear.coef_.ravel(), float(linear.intercept_[0])), bg_t)
    values_t = np.asarray(explainer.shap_values(prep.transform(x)), dtype=np.float64)
    n_feat = x.shape[1]
    values = values_t[:, :n_feat].copy()
    indicator = pipe.named_steps["impute"].indicator_
    if indicator is not None:
        for j, original in enumerate(indicator.features_):
            values[:, original] += values_t[:, n_feat + j]
    return values, float(np.ravel(explainer.expected_value)[0])


def global_importance(values: np.ndarray, names: Sequence[str]) -> list[dict[str, float | str]]:
    """Mean |SHAP| per feature, largest first."""
    mean_abs = np.abs(values).mean(axis=0)
    order = np.argsort(-mean_abs, kind="stable")
    return [{"feature": names[i], "mean_abs_shap": float(mean_abs[i])} for i in order]


def _fmt(value: float) -> str:
    if math.isnan(value):
        return "not recorded"
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.1f}" if abs(value) >= 10 else f"{value:.2f}"


def describe_contribution(
    name: str,
    value: float,
    contribution: float,
    labels: Mapping[str, str],
    units: Mapping[str, str],
) -> str:
    """One contribution in words: 'Systolic BP 162 mm[Hg] raised the risk (+0.45 log-odds)'."""
    label = labels.get(name, name.replace("_", " "))
    unit = units.get(name)
    if math.isnan(value):
        shown = f"{label} not recorded"
    elif name.startswith(("sex_", "race_", "ethnicity_")) or (unit is None and value in (0.0, 1.0)):
        shown = f"{label}: {'yes' if value == 1 else 'no'}"
    else:
        shown = f"{label} {_fmt(value)}{' ' + unit if unit else ''}"
    verb = "raised" if contribution > 0 else "lowered"
    return f"{shown} {verb} the risk ({contribution:+.2f} log-odds)"


def top_contributors(
    values_row: np.ndarray,
    x_row: np.ndarray,
    names: Sequence[str],
    *,
    labels: Mapping[str, str] | None = None,
    units: Mapping[str, str] | None = None,
    k: int = 5,
) -> list[dict[str, Any]]:
    """The k largest |contributions| for one patient, each with a sentence."""
    labels = labels or {}
    units = units or {}
    order = np.argsort(-np.abs(values_row), kind="stable")[:k]
    out = []
    for i in order:
        if values_row[i] == 0:
            continue
        out.append(
            {
                "feature": names[i],
                "value": None if math.isnan(x_row[i]) else float(x_row[i]),
                "contribution": float(values_row[i]),
                "text": describe_contribution(
                    names[i], float(x_row[i]), float(values_row[i]), labels, units
                ),
            }
        )
    return out
