"""Performance of a risk model on held-out patients: discrimination, calibration, clinical utility.

- AUROC with a 95% CI from DeLong's variance (DeLong, DeLong & Clarke-Pearson, Biometrics 1988),
  computed with the midrank algorithm of Sun & Xu (IEEE Signal Process Lett 2014); the paired
  DeLong test compares two scores on the same patients (e.g. the model and PCE).
- AUPRC as average precision; Brier score and its scaled version (1 − Brier/Brier of the mean).
- Calibration after Van Calster et al. (J Clin Epidemiol 2016, "A calibration hierarchy"):
  calibration-in-the-large (mean observed − mean predicted and O/E), the calibration intercept
  (logistic recalibration with logit(p) as offset) and the calibration slope (coefficient of
  logit(p)); ideal 0 and 1. A binned calibration curve with Wilson intervals for the plot.
- Decision curve: net benefit = TP/n − FP/n · t/(1 − t) across thresholds t, against treat-all
  and treat-none (Vickers & Elkin, Med Decis Making 2006).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy.stats import norm, rankdata

__all__ = [
    "auroc_delong",
    "calibration",
    "calibration_curve",
    "delong_paired",
    "evaluate",
    "logistic_fit",
    "net_benefit",
]

_EPS = 1e-8
_Z = float(norm.ppf(0.975))


def _check(y: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y, dtype=np.float64).ravel()
    p = np.asarray(p, dtype=np.float64).ravel()
    if y.shape != p.shape:
        raise ValueError("outcomes and predictions differ in length")
    if not np.isin(y, (0.0, 1.0)).all():
        raise ValueError("outcomes must be 0/1")
    return y, p


def _structural(y: np.ndarray, scores: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """AUROC and DeLong's structural components (V10 for positives, V01 for negatives)."""
    pos, neg = scores[y == 1], scores[y == 0]
    m, n = len(pos), len(neg)
    if m == 0 or n == 0:
        raise ValueError("AUROC needs both outcome classes")
    tz = rankdata(np.concatenate([pos, neg]))
    tx, ty = rankdata(pos), rankdata(neg)
    auc = (tz[:m].sum() - m * (m + 1) / 2) / (m * n)
    v10 = (tz[:m] - tx) / n
    v01 = 1.0 - (tz[m:] - ty) / m
    return float(auc), v10, v01


def auroc_delong(y: np.ndarray, p: np.ndarray, level: float = 0.95) -> dict[str, Any]:
    """AUROC, its DeLong standard error and a Wald CI (clipped to [0, 1])."""
    y, p = _check(y, p)
    auc, v10, v01 = _structural(y, p)
    if min(len(v10), len(v01)) < 2:
        return {"auroc": auc, "se": float("nan"), "ci": [float("nan"), float("nan")]}
    var = np.var(v10, ddof=1) / len(v10) + np.var(v01, ddof=1) / len(v01)
    se = math.sqrt(max(var, 0.0))
    z = float(norm.ppf(0.5 + level / 2))
    return {"auroc": auc, "se": se, "ci": [max(0.0, auc - z * se), min(1.0, auc + z * se)]}


def delong_paired(y: np.ndarray, p1: np.ndarray, p2: np.ndarray) -> dict[str, float]:
    """DeLong's test for two correlated AUROCs on the same patients: difference, SE, p-value."""
    y, p1 = _check(y, p1)
    a1, x1, y1 = _structural(y, p1)
    a2, x2, y2 = _structural(y, np.asarray(p2, dtype=np.float64))
    s10 = np.cov(np.vstack([x1, x2]))
    s01 = np.cov(np.vstack([y1, y2]))
    cov = s10 / len(x1) + s01 / len(y1)
    var = cov[0, 0] + cov[1, 1] - 2 * cov[0, 1]
    se = math.sqrt(max(float(var), 1e-300))
    diff = a1 - a2
    return {
        "auroc_1": a1,
        "auroc_2": a2,
        "difference": diff,
        "se": se,
        "p_value": float(2 * norm.sf(abs(diff) / se)),
    }


def logistic_fit(
    x: np.ndarray | None, y: np.ndarray, offset: np.ndarray | None = None, iters: int = 50
) -> np.ndarray:
    """Maximum-likelihood logistic regression by Newton–Raphson (IRLS): intercept, then one
    coefficient per column of `x` (None: intercept only), with an optional fixed offset."""
    n = len(y)
    design = np.ones((n, 1)) if x is None else np.column_stack([np.ones(n), x])
    off = np.zeros(n) if offset is None else offset
    beta = np.zeros(design.shape[1])
    for _ in range(iters):
        eta = design @ beta + off
        mu = 1.0 / (1.0 + np.exp(-eta))
        w = np.clip(mu * (1 - mu), 1e-12, None)
        grad = design.T @ (y - mu)
        hess = design.T @ (design * w[:, None])
        step = np.linalg.solve(hess + 1e-10 * np.eye(len(beta)), grad)
        beta = beta + step
        if np.max(np.abs(step)) < 1e-10:
            break
    return beta


def calibration(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    """Van Calster 2016 levels 1–2: calibration-in-the-large, intercept and slope."""
    y, p = _check(y, p)
    lp = np.log(np.clip(p, _EPS, 1 - _EPS) / np.clip(1 - p, _EPS, 1))
    intercept = float(logistic_fit(None, y, offset=lp)[0])
    recal, slope = logistic_fit(lp[:, None], y)
    observed, expected = float(y.mean()), float(p.mean())
    return {
        "calibration_in_the_large": observed - expected,
        "observed_expected_ratio": observed / expected if expected > 0 else float("nan"),
        "calibration_intercept": intercept,
        "calibration_slope": float(slope),
        "recalibration_intercept": float(recal),
    }


def _wilson(k: float, n: float) -> tuple[float, float]:
    if n == 0:
        return (float("nan"), float("nan"))
    phat = k / n
    denom = 1 + _Z**2 / n
    centre = (phat + _Z**2 / (2 * n)) / denom
    half = _Z * math.sqrt(phat * (1 - phat) / n + _Z**2 / (4 * n * n)) / denom
    return (centre - half, centre + half)


def calibration_curve(y: np.ndarray, p: np.ndarray, bins: int = 10) -> list[dict[str, float]]:
    """Observed vs mean predicted risk in quantile bins of the prediction, with Wilson 95% CIs."""
    y, p = _check(y, p)
    order = np.argsort(p, kind="stable")
    out = []
    for chunk in np.array_split(order, min(bins, len(p))):
        if len(chunk) == 0:
            continue
        k, n = float(y[chunk].sum()), float(len(chunk))
        lo, hi = _wilson(k, n)
        out.append(
            {
                "predicted": float(p[chunk].mean()),
                "observed": k / n,
                "n": n,
                "lower": lo,
                "upper": hi,
            }
        )
    return out


def net_benefit(
    y: np.ndarray, p: np.ndarray, thresholds: np.ndarray | None = None
) -> dict[str, list[float]]:
    """Decision curve (Vickers & Elkin 2006): net benefit of the model, treat-all, treat-none."""
    y, p = _check(y, p)
    t = np.linspace(0.01, 0.5, 50) if thresholds is None else np.asarray(thresholds, dtype=float)
    n = len(y)
    prevalence = y.mean()
    model, treat_all = [], []
    for th in t:
        odds = th / (1 - th)
        treat = p >= th
        tp = float(np.sum(treat & (y == 1)))
        fp = float(np.sum(treat & (y == 0)))
        model.append(tp / n - fp / n * odds)
        treat_all.append(float(prevalence - (1 - prevalence) * odds))
    return {
        "threshold": [float(x) for x in t],
        "model": model,
        "treat_all": treat_all,
        "treat_none": [0.0] * len(t),
    }


def evaluate(y: np.ndarray, p: np.ndarray, *, threshold: float | None = None) -> dict[str, Any]:
    """Every headline metric for predictions `p` of binary outcomes `y`."""
    from sklearn.metrics import average_precision_score, brier_score_loss

    y, p = _check(y, p)
    auc = auroc_delong(y, p)
    brier = float(brier_score_loss(y, p))
    prevalence = float(y.mean())
    reference = prevalence * (1 - prevalence)
    th = prevalence if threshold is None else threshold
    pred = p >= th
    tp = float(np.sum(pred & (y == 1)))
    fp = float(np.sum(pred & (y == 0)))
    out: dict[str, Any] = {
        "n": len(y),
        "events": int(y.sum()),
        "prevalence": prevalence,
        "auroc": auc["auroc"],
        "auroc_ci": auc["ci"],
        "auroc_ci_method": "DeLong 1988 (Sun & Xu 2014 algorithm), Wald 95%",
        "auprc": float(average_precision_score(y, p)),
        "brier": brier,
        "brier_scaled": 1 - brier / reference if reference > 0 else float("nan"),
        "threshold": th,
        "sensitivity": tp / max(y.sum(), 1),
        "specificity": 1 - fp / max((1 - y).sum(), 1),
        "ppv": tp / max(tp + fp, 1),
        **calibration(y, p),
    }
    return out
