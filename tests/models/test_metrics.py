"""Evaluation metrics, cross-checked against scikit-learn and against direct definitions."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

from pmed.models import metrics


def _calibrated(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    p = 1 / (1 + np.exp(-rng.normal(-2.0, 1.0, n)))
    y = (rng.random(n) < p).astype(int)
    return y, p


def _slow_delong_variance(y: np.ndarray, p: np.ndarray) -> float:
    """DeLong 1988 eq. for var(AUC) from the placement values, O(m·n), ties counted 1/2."""
    pos, neg = p[y == 1], p[y == 0]
    psi = (pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])
    v10, v01 = psi.mean(axis=1), psi.mean(axis=0)
    return float(np.var(v10, ddof=1) / len(pos) + np.var(v01, ddof=1) / len(neg))


def test_auroc_auprc_brier_match_sklearn() -> None:
    y, p = _calibrated(3000)
    p = np.round(p, 2)  # ties, to exercise midranks
    out = metrics.evaluate(y, p)
    assert out["auroc"] == pytest.approx(roc_auc_score(y, p), abs=1e-12)
    assert out["auprc"] == pytest.approx(average_precision_score(y, p), abs=1e-12)
    assert out["brier"] == pytest.approx(brier_score_loss(y, p), abs=1e-12)


def test_delong_standard_error_equals_the_direct_definition() -> None:
    y, p = _calibrated(600, seed=3)
    p = np.round(p, 2)
    fast = metrics.auroc_delong(y, p)
    assert fast["se"] ** 2 == pytest.approx(_slow_delong_variance(y, p), rel=1e-9)
    lo, hi = fast["ci"]
    assert lo < fast["auroc"] < hi
    assert hi - lo == pytest.approx(2 * 1.959964 * fast["se"], rel=1e-5)


def test_delong_ci_covers_the_true_auroc_about_95_percent_of_the_time() -> None:
    rng = np.random.default_rng(11)
    covered = 0
    trials = 200
    for _ in range(trials):
        y = rng.random(400) < 0.3
        score = rng.normal(0, 1, 400) + 1.0 * y  # true AUROC = Φ(1/√2) = 0.7602
        lo, hi = metrics.auroc_delong(y.astype(int), score)["ci"]
        covered += lo <= 0.76025 <= hi
    assert 0.90 <= covered / trials <= 0.99


def test_paired_delong_detects_a_better_score_and_not_an_equal_one() -> None:
    rng = np.random.default_rng(5)
    y = (rng.random(3000) < 0.2).astype(int)
    good = rng.normal(0, 1, 3000) + 1.2 * y
    weak = good + rng.normal(0, 1.5, 3000)
    assert metrics.delong_paired(y, good, weak)["p_value"] < 1e-6
    assert metrics.delong_paired(y, good, good + 1e-9 * rng.random(3000))["p_value"] > 0.5


def test_calibrated_predictions_have_slope_one_and_intercept_zero() -> None:
    y, p = _calibrated(40_000, seed=1)
    cal = metrics.calibration(y, p)
    assert cal["calibration_slope"] == pytest.approx(1.0, abs=0.05)
    assert cal["calibration_intercept"] == pytest.approx(0.0, abs=0.05)
    assert cal["observed_expected_ratio"] == pytest.approx(1.0, abs=0.03)


def test_overconfident_predictions_have_slope_below_one() -> None:
    y, p = _calibrated(40_000, seed=2)
    logit = np.log(p / (1 - p))
    over = 1 / (1 + np.exp(-(2 * logit + 2)))  # twice the spread around the mean logit -2
    assert metrics.calibration(y, over)["calibration_slope"] == pytest.approx(0.5, abs=0.03)


def test_calibration_slope_matches_unpenalised_sklearn_logistic_regression() -> None:
    from sklearn.linear_model import LogisticRegression

    y, p = _calibrated(5000, seed=4)
    lp = np.log(p / (1 - p))
    ref = LogisticRegression(C=np.inf, tol=1e-10, max_iter=1000).fit(lp[:, None], y)
    cal = metrics.calibration(y, p)
    assert cal["calibration_slope"] == pytest.approx(ref.coef_[0, 0], rel=1e-4)
    assert cal["recalibration_intercept"] == pytest.approx(ref.intercept_[0], abs=1e-4)


def test_net_benefit_by_hand() -> None:
    y = np.array([1, 1, 0, 0, 0, 1, 0, 0, 0, 0])
    p = np.array([0.9, 0.6, 0.7, 0.2, 0.1, 0.3, 0.05, 0.4, 0.2, 0.1])
    nb = metrics.net_benefit(y, p, thresholds=np.array([0.25, 0.5]))
    # t=0.25: treat p≥0.25 → TP 3 (0.9, 0.6, 0.3), FP 2 (0.7, 0.4): 3/10 − 2/10·(1/3)
    assert nb["model"][0] == pytest.approx(0.3 - 0.2 / 3)
    # t=0.5: TP 2, FP 1: 0.2 − 0.1·1
    assert nb["model"][1] == pytest.approx(0.1)
    assert nb["treat_all"][1] == pytest.approx(0.3 - 0.7)


def test_calibration_curve_bins_cover_every_patient() -> None:
    y, p = _calibrated(1000)
    curve = metrics.calibration_curve(y, p, bins=10)
    assert len(curve) == 10
    assert sum(b["n"] for b in curve) == 1000
    assert all(b["lower"] <= b["observed"] <= b["upper"] for b in curve)
