"""Fairness audit: the model's metrics per group, gaps against the rest, flags beyond a bound.

For each attribute (sex, race, ethnicity, age band) a fairlearn `MetricFrame` (Bird et al.,
fairlearn 2020) gives per-group count, observed and expected event rate, TPR, FPR and AUROC at
the audit threshold. Each group is compared with the rest of the population:

- calibration: observed/expected ratio (O/E); flagged when it leaves [1/(1+b), 1+b] and the
  difference is significant (z = (O − E)/√Σp(1−p), the one-group Hosmer–Lemeshow statistic);
- equalised odds (Hardt, Price & Srebro, NeurIPS 2016): the larger of |TPR gap| and |FPR gap|,
  flagged above its bound when significant (two-proportion z-test);
- discrimination: AUROC below the other groups' within-group AUROCs (size-weighted) by more
  than its bound, significant by DeLong SEs.

Which gaps raise a *flag* is configurable (`flag_on`). By default calibration and
discrimination do, and equalised-odds gaps beyond their bound are reported as *disparities*:
a perfectly calibrated model shows TPR/FPR gaps at one threshold whenever groups differ in risk
(Kleinberg, Mullainathan & Raghavan 2016; Chouldechova 2017), so those gaps describe the
population as much as the model. Add `equalised_odds` to `flag_on` to flag them too.

Requiring significance as well as size keeps small groups from being flagged by noise; the
significance level is Bonferroni-corrected for the number of groups judged in the audit (a dozen
groups at α = 0.05 would otherwise flag one honest group in two audits). Groups under
`min_group_size` are reported but never flagged. fairlearn's between-group
`equalized_odds_difference` is reported per attribute too.

Mitigation: group-specific thresholds from fairlearn's `ThresholdOptimizer` (equalised-odds
constraint) fitted on training predictions, with gaps reported before and after on test patients.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy.stats import norm
from sklearn.base import BaseEstimator, ClassifierMixin

from pmed.models.metrics import auroc_delong

__all__ = ["audit", "mitigate_thresholds"]


def _rate(num: float, den: float) -> float:
    return num / den if den else float("nan")


def _two_prop_p(k1: float, n1: float, k2: float, n2: float) -> float:
    if min(n1, n2) == 0:
        return 1.0
    pooled = (k1 + k2) / (n1 + n2)
    se = math.sqrt(max(pooled * (1 - pooled) * (1 / n1 + 1 / n2), 1e-300))
    return float(2 * norm.sf(abs(k1 / n1 - k2 / n2) / se))


def _auroc(y: np.ndarray, p: np.ndarray) -> tuple[float, float]:
    if y.min() == y.max():
        return float("nan"), float("nan")
    res = auroc_delong(y, p)
    return res["auroc"], res["se"]


def _group_stats(y: np.ndarray, p: np.ndarray, th: float) -> dict[str, float]:
    pred = p >= th
    pos, neg = y == 1, y == 0
    auc, se = _auroc(y, p)
    return {
        "n": float(len(y)),
        "events": float(y.sum()),
        "observed": float(y.mean()) if len(y) else float("nan"),
        "expected": float(p.mean()) if len(y) else float("nan"),
        "tp": float(np.sum(pred & pos)),
        "fp": float(np.sum(pred & neg)),
        "tpr": _rate(float(np.sum(pred & pos)), float(pos.sum())),
        "fpr": _rate(float(np.sum(pred & neg)), float(neg.sum())),
        "auroc": auc,
        "auroc_se": se,
        "var_sum": float(np.sum(p * (1 - p))),
    }


def _metric_frame(y: np.ndarray, p: np.ndarray, sensitive: np.ndarray, th: float) -> Any:
    from fairlearn.metrics import MetricFrame, false_positive_rate, true_positive_rate

    def observed(yt: np.ndarray, yp: np.ndarray) -> float:
        return float(np.mean(yt))

    def expected(yt: np.ndarray, yp: np.ndarray) -> float:
        return float(np.mean(yp))

    def tpr(yt: np.ndarray, yp: np.ndarray) -> float:
        return float(true_positive_rate(yt, yp >= th)) if np.any(yt == 1) else float("nan")

    def fpr(yt: np.ndarray, yp: np.ndarray) -> float:
        return float(false_positive_rate(yt, yp >= th)) if np.any(yt == 0) else float("nan")

    def auroc(yt: np.ndarray, yp: np.ndarray) -> float:
        return _auroc(np.asarray(yt), np.asarray(yp))[0]

    def count(yt: np.ndarray, yp: np.ndarray) -> int:
        return len(yt)

    return MetricFrame(
        metrics={
            "n": count,
            "observed": observed,
            "expected": expected,
            "tpr": tpr,
            "fpr": fpr,
            "auroc": auroc,
        },
        y_true=y,
        y_pred=p,
        sensitive_features=sensitive,
    )


def audit(
    y: np.ndarray,
    p: np.ndarray,
    groups: dict[str, np.ndarray],
    *,
    threshold: float,
    calibration_bound: float = 0.2,
    equalised_odds_bound: float = 0.1,
    auroc_bound: float = 0.1,
    min_group_size: int = 100,
    alpha: float = 0.05,
    flag_on: tuple[str, ...] | list[str] = ("calibration", "discrimination"),
) -> dict[str, Any]:
    """Per-group metrics and flags for every attribute in `groups` (labels per patient)."""
    from fairlearn.metrics import equalized_odds_difference

    y = np.asarray(y, dtype=np.int64)
    p = np.asarray(p, dtype=np.float64)
    judged = sum(
        int(np.sum(np.unique(np.asarray(v).astype(str), return_counts=True)[1] >= min_group_size))
        for v in groups.values()
    )
    level = alpha / max(judged, 1)  # Bonferroni over every group judged
    attributes: dict[str, Any] = {}
    flags: list[dict[str, Any]] = []
    disparities: list[dict[str, Any]] = []
    for attr, labels in groups.items():
        labels = np.asarray(labels).astype(str)
        frame = _metric_frame(y, p, labels, threshold)
        by_group = frame.by_group.to_dict(orient="index")
        rows = []
        names = sorted(np.unique(labels))
        stats = {grp: _group_stats(y[labels == grp], p[labels == grp], threshold) for grp in names}
        for group in names:
            mask = labels == group
            g = stats[group]
            r = _group_stats(y[~mask], p[~mask], threshold)
            r["auroc"], r["auroc_se"] = _within_group_reference(stats, group)
            fl = by_group.get(group, {})
            row: dict[str, Any] = {
                "group": str(group),
                "n": int(g["n"]),
                "events": int(g["events"]),
                "observed_rate": g["observed"],
                "expected_rate": g["expected"],
                "oe_ratio": _rate(g["observed"], g["expected"]),
                "tpr": fl.get("tpr", g["tpr"]),
                "fpr": fl.get("fpr", g["fpr"]),
                "auroc": fl.get("auroc", g["auroc"]),
                "tpr_gap": g["tpr"] - r["tpr"],
                "fpr_gap": g["fpr"] - r["fpr"],
                "auroc_gap": g["auroc"] - r["auroc"],
                "flags": [],
            }
            row["equalised_odds_gap"] = float(np.nanmax(np.abs([row["tpr_gap"], row["fpr_gap"]])))
            if g["n"] >= min_group_size and r["n"] > 0:
                row["flags"] = _flags(
                    g, r, row, calibration_bound, equalised_odds_bound, auroc_bound, level
                )
            else:
                row["note"] = f"fewer than {min_group_size} patients: reported, not judged"
            gaps = row["flags"]
            row["flags"] = [x for x in gaps if x in flag_on]
            row["disparities"] = [x for x in gaps if x not in flag_on]
            for name in gaps:
                entry = {
                    "attribute": attr,
                    "group": str(group),
                    "metric": name,
                    **{k: row[k] for k in ("n", "oe_ratio", "equalised_odds_gap", "auroc_gap")},
                }
                (flags if name in flag_on else disparities).append(entry)
            rows.append(row)
        eod = float(equalized_odds_difference(y, p >= threshold, sensitive_features=labels))
        attributes[attr] = {"groups": rows, "equalized_odds_difference": eod}
    return {
        "threshold": threshold,
        "bounds": {
            "calibration_oe": calibration_bound,
            "equalised_odds": equalised_odds_bound,
            "auroc": auroc_bound,
            "min_group_size": min_group_size,
            "alpha": alpha,
            "alpha_per_group": level,
        },
        "flag_on": list(flag_on),
        "attributes": attributes,
        "flags": flags,
        "disparities": disparities,
        "flagged": bool(flags),
    }


def _within_group_reference(stats: dict[str, dict[str, float]], group: str) -> tuple[float, float]:
    """The other groups' within-group AUROCs, weighted by size, and the SE of that mean.

    A group's AUROC is compared with this, not with the AUROC of everyone else pooled: pooling
    across groups that differ in risk (age bands) inflates the AUROC by the between-group
    spread, so every band of a strong predictor would look worse than "the rest"."""
    others = [s for k, s in stats.items() if k != group and not math.isnan(s["auroc"])]
    if not others:
        return float("nan"), float("nan")
    weights = np.array([s["n"] for s in others], dtype=float)
    weights /= weights.sum()
    aurocs = np.array([s["auroc"] for s in others])
    ses = np.nan_to_num(np.array([s["auroc_se"] for s in others]), nan=0.0)
    return float(weights @ aurocs), float(math.sqrt(float((weights**2) @ (ses**2))))


def _flags(
    g: dict[str, float],
    r: dict[str, float],
    row: dict[str, Any],
    cal_bound: float,
    eo_bound: float,
    auc_bound: float,
    alpha: float,
) -> list[str]:
    out = []
    oe = row["oe_ratio"]
    if g["var_sum"] > 0 and not math.isnan(oe):
        z = (g["events"] - g["n"] * g["expected"]) / math.sqrt(g["var_sum"])
        if abs(math.log(max(oe, 1e-9))) > math.log(1 + cal_bound) and 2 * norm.sf(abs(z)) < alpha:
            out.append("calibration")
    pos_g, pos_r = g["events"], r["events"]
    neg_g, neg_r = g["n"] - pos_g, r["n"] - pos_r
    p_tpr = _two_prop_p(g["tp"], pos_g, r["tp"], pos_r)
    p_fpr = _two_prop_p(g["fp"], neg_g, r["fp"], neg_r)
    tpr_bad = abs(row["tpr_gap"]) > eo_bound and p_tpr < alpha
    fpr_bad = abs(row["fpr_gap"]) > eo_bound and p_fpr < alpha
    if tpr_bad or fpr_bad:
        out.append("equalised_odds")
    if not math.isnan(row["auroc_gap"]) and row["auroc_gap"] < -auc_bound:
        se = math.sqrt(g["auroc_se"] ** 2 + r["auroc_se"] ** 2)
        if se > 0 and 2 * norm.sf(abs(row["auroc_gap"]) / se) < alpha:
            out.append("discrimination")
    return out


class _Scores(ClassifierMixin, BaseEstimator):
    """A prefit 'estimator' whose input column is already the risk (for ThresholdOptimizer)."""

    def __init__(self) -> None:
        self.classes_ = np.array([0, 1])
        self.fitted_ = True

    def fit(self, x: np.ndarray, y: np.ndarray) -> _Scores:
        return self

    def predict(self, x: np.ndarray) -> np.ndarray:
        return (np.asarray(x)[:, 0] >= 0.5).astype(int)

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        p = np.asarray(x, dtype=float)[:, 0]
        return np.column_stack([1 - p, p])


def _rates(y: np.ndarray, pred: np.ndarray, labels: np.ndarray) -> dict[str, dict[str, float]]:
    out = {}
    for group in sorted(np.unique(labels)):
        m = labels == group
        yy, pp = y[m], pred[m]
        out[str(group)] = {
            "tpr": _rate(float(np.sum(pp & (yy == 1))), float(np.sum(yy == 1))),
            "fpr": _rate(float(np.sum(pp & (yy == 0))), float(np.sum(yy == 0))),
            "selection_rate": float(pp.mean()) if len(pp) else float("nan"),
        }
    return out


def mitigate_thresholds(
    y_train: np.ndarray,
    p_train: np.ndarray,
    groups_train: np.ndarray,
    y_test: np.ndarray,
    p_test: np.ndarray,
    groups_test: np.ndarray,
    *,
    threshold: float,
    seed: int = 42,
) -> dict[str, Any]:
    """Group-aware thresholds (fairlearn ThresholdOptimizer, equalised odds, balanced accuracy)
    fitted on training predictions; TPR/FPR by group and the equalised-odds difference on test
    patients, before (one threshold) and after."""
    from fairlearn.metrics import equalized_odds_difference
    from fairlearn.postprocessing import ThresholdOptimizer

    lab_tr = np.asarray(groups_train).astype(str)
    lab_te = np.asarray(groups_test).astype(str)
    opt = ThresholdOptimizer(
        estimator=_Scores(),
        constraints="equalized_odds",
        objective="balanced_accuracy_score",
        prefit=True,
        predict_method="predict_proba",
    )
    opt.fit(np.asarray(p_train)[:, None], np.asarray(y_train), sensitive_features=lab_tr)
    after = np.asarray(
        opt.predict(np.asarray(p_test)[:, None], sensitive_features=lab_te, random_state=seed)
    ).astype(bool)
    before = np.asarray(p_test) >= threshold
    y_test = np.asarray(y_test)
    return {
        "method": "fairlearn ThresholdOptimizer (equalized_odds, balanced accuracy), Hardt 2016",
        "before": {
            "equalized_odds_difference": float(
                equalized_odds_difference(y_test, before, sensitive_features=lab_te)
            ),
            "by_group": _rates(y_test, before, lab_te),
            "balanced_accuracy": _balanced(y_test, before),
        },
        "after": {
            "equalized_odds_difference": float(
                equalized_odds_difference(y_test, after, sensitive_features=lab_te)
            ),
            "by_group": _rates(y_test, after, lab_te),
            "balanced_accuracy": _balanced(y_test, after),
        },
    }


def _balanced(y: np.ndarray, pred: np.ndarray) -> float:
    tpr = _rate(float(np.sum(pred & (y == 1))), float(np.sum(y == 1)))
    tnr = _rate(float(np.sum(~pred & (y == 0))), float(np.sum(y == 0)))
    return (tpr + tnr) / 2
