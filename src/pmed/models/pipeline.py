"""The development workflow for one model: validate, split, train, evaluate, audit, explain,
register, and write the evaluation page and model card (OHDSI PatientLevelPrediction's steps,
Reps et al. JAMIA 2018, plus a fairness audit and SHAP explanations).

Published calculators given as `baselines` (e.g. PCE for 10-year ASCVD, Goff 2014) are evaluated
on the same test patients where they apply and compared with the model by the paired DeLong test.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np

from pmed.errors import InputError
from pmed.models import fairness, metrics, plots
from pmed.models.card import write_card
from pmed.models.explain import global_importance, shap_values
from pmed.models.registry import RegisteredModel, save_model, update_meta
from pmed.models.train import TrainingData, split, train, validate_data

__all__ = ["develop", "evaluate_predictions", "external_validation", "recompute_audit"]

_SHAP_ROWS = 2000


def evaluate_predictions(
    y: np.ndarray,
    p: np.ndarray,
    *,
    threshold: float,
    baselines: dict[str, np.ndarray] | None = None,
) -> dict[str, Any]:
    """Headline metrics, curves, and the comparison with each baseline score."""
    out = metrics.evaluate(y, p, threshold=threshold)
    out["calibration_curve"] = metrics.calibration_curve(y, p)
    out["decision_curve"] = metrics.net_benefit(y, p)
    comparisons = {}
    for name, score in (baselines or {}).items():
        ok = ~np.isnan(score)
        if ok.sum() < 20 or len(np.unique(y[ok])) < 2:
            continue
        base = metrics.evaluate(y[ok], score[ok], threshold=threshold)
        paired = metrics.delong_paired(y[ok], p[ok], score[ok])
        comparisons[name] = {
            "n": int(ok.sum()),
            "auroc": base["auroc"],
            "auroc_ci": base["auroc_ci"],
            "brier": base["brier"],
            "calibration_slope": base["calibration_slope"],
            "observed_expected_ratio": base["observed_expected_ratio"],
            "model_auroc_same_patients": paired["auroc_1"],
            "auroc_difference": paired["difference"],
            "delong_p_value": paired["p_value"],
        }
        nb = metrics.net_benefit(y[ok], score[ok])
        out["decision_curve"][f"baseline:{name}"] = nb["model"]
    out["baselines"] = comparisons
    return out


def _audit_settings(data: TrainingData, threshold: float) -> dict[str, Any]:
    a = data.audit
    return {
        "threshold": threshold,
        "calibration_bound": a.get("calibration_bound", 0.2),
        "equalised_odds_bound": a.get("equalised_odds_bound", 0.1),
        "auroc_bound": a.get("auroc_bound", 0.1),
        "min_group_size": a.get("min_group_size", 100),
        "flag_on": list(a.get("flag_on", ["calibration", "discrimination"])),
    }


def recompute_audit(reg: RegisteredModel, **bounds: Any) -> dict[str, Any]:
    """Re-run the audit from the stored test predictions, optionally with other bounds."""
    cols = reg.test_predictions()
    settings = dict(reg.meta["audit_settings"])
    settings.update({k: v for k, v in bounds.items() if v is not None})
    groups = {k.split(":", 1)[1]: v for k, v in cols.items() if k.startswith("group:")}
    return fairness.audit(cols["y"], cols["p"], groups, **settings)


def develop(
    data: TrainingData,
    algorithm: str,
    home: Path,
    *,
    mitigate: bool = False,
) -> RegisteredModel:
    """Train and register one model; everything the card reports is computed here."""
    validate_data(data)
    if not data.fingerprint:
        data.fingerprint = _fingerprint(data)
    parts = split(data)
    model = train(data, algorithm, parts.train)
    p_test = model.predict_proba(data.x[parts.test])
    y_test = data.y[parts.test]
    threshold = float(data.audit.get("threshold") or data.y[parts.train].mean())
    base_test = {k: np.asarray(v, dtype=float)[parts.test] for k, v in data.baselines.items()}
    evaluation = evaluate_predictions(y_test, p_test, threshold=threshold, baselines=base_test)
    p_train = model.predict_proba(data.x[parts.train])
    train_metrics = metrics.evaluate(data.y[parts.train], p_train, threshold=threshold)

    settings = _audit_settings(data, threshold)
    groups_test = {k: np.asarray(v).astype(str)[parts.test] for k, v in data.groups.items()}
    audit = fairness.audit(y_test, p_test, groups_test, **settings)
    mitigation = {}
    if mitigate:
        for attr, labels in data.groups.items():
            labels = np.asarray(labels).astype(str)
            if len(np.unique(labels[parts.test])) < 2:
                continue
            mitigation[attr] = fairness.mitigate_thresholds(
                data.y[parts.train],
                p_train,
                labels[parts.train],
                y_test,
                p_test,
                labels[parts.test],
                threshold=threshold,
                seed=data.seed,
            )

    rows = parts.test[:_SHAP_ROWS]
    values, base_value = shap_values(model, data.x[rows], background=data.x[parts.train])
    importance = global_importance(values, data.feature_names)

    test_cols: dict[str, np.ndarray] = {
        "patient_id": np.asarray(data.ids, dtype=object)[parts.test],
        "y": y_test,
        "p": p_test,
    }
    for k, v in groups_test.items():
        test_cols[f"group:{k}"] = v
    for k, v in base_test.items():
        test_cols[f"baseline:{k}"] = v
    headline = {
        k: v
        for k, v in evaluation.items()
        if k not in ("calibration_curve", "decision_curve", "baselines")
    }
    meta = {
        "cohort_name": data.name,
        "fit_seconds": model.fit_seconds,
        "title": data.title or data.name,
        "cohort": data.cohort,
        "cohort_attrition": data.attrition,
        "training_data_fingerprint": data.fingerprint,
        "feature_names": data.feature_names,
        "feature_dictionary": data.feature_dictionary,
        "feature_labels": data.labels,
        "feature_units": data.units,
        "split": {
            "method": "patient-level, stratified on the outcome",
            "seed": data.seed,
            "train_patients": len(parts.train),
            "test_patients": len(parts.test),
            "train_events": int(data.y[parts.train].sum()),
            "test_events": int(y_test.sum()),
        },
        "metrics": headline,
        "train_metrics": {k: train_metrics[k] for k in ("auroc", "brier", "calibration_slope")},
        "calibration_curve": evaluation["calibration_curve"],
        "decision_curve": evaluation["decision_curve"],
        "baselines": evaluation["baselines"],
        "audit": audit,
        "audit_settings": settings,
        "mitigation": mitigation,
        "shap": {
            "base_value_log_odds": base_value,
            "global_importance": importance,
            "rows": len(rows),
        },
        "background_means": np.nanmean(data.x[parts.train], axis=0).tolist(),
    }
    reg = save_model(home, model, meta, test_cols)
    _figures(reg)
    write_card(reg)
    return reg


def external_validation(reg: RegisteredModel, data: TrainingData) -> dict[str, Any]:
    """Score every patient of `data` (another store, period or site) with the registered model:
    metrics, calibration and the audit, as OHDSI's external validation (Reps et al. 2018).
    The figures and page go to `validation-<data fingerprint[:10]>/` in the model's directory."""
    names = reg.meta["feature_names"]
    missing = sorted(set(names) - set(data.feature_names))
    if missing:
        raise InputError(
            f"the validation cohort lacks features the model uses: {', '.join(missing)}",
            field="features",
        )
    order = [data.feature_names.index(n) for n in names]  # stored definitions sort their keys
    data.x, data.feature_names = data.x[:, order], list(names)
    validate_data(data)
    fingerprint = data.fingerprint or _fingerprint(data)
    p = reg.model.predict_proba(data.x)
    threshold = float(reg.meta["audit_settings"]["threshold"])
    evaluation = evaluate_predictions(data.y, p, threshold=threshold, baselines=data.baselines)
    settings = dict(reg.meta["audit_settings"])
    groups = {k: np.asarray(v).astype(str) for k, v in data.groups.items()}
    audit = fairness.audit(data.y, p, groups, **settings)
    out_dir = reg.path / f"validation-{fingerprint[:10]}"
    out_dir.mkdir(exist_ok=True)
    headline = {
        k: v
        for k, v in evaluation.items()
        if k not in ("calibration_curve", "decision_curve", "baselines")
    }
    cal = plots.calibration_png(
        evaluation["calibration_curve"], headline, out_dir / "calibration.png"
    )
    dca = plots.decision_curve_png(evaluation["decision_curve"], out_dir / "decision_curve.png")
    page = plots.evaluation_html(
        f"External validation of {reg.id}", headline, audit, [cal, dca], out_dir / "evaluation.html"
    )
    return {
        "model_id": reg.id,
        "validation_data_fingerprint": fingerprint,
        "patients": len(data.y),
        "metrics": headline,
        "baselines": evaluation["baselines"],
        "audit": audit,
        "files": {
            "evaluation_html": str(page),
            "calibration_png": str(cal),
            "decision_curve_png": str(dca),
        },
    }


def _fingerprint(data: TrainingData) -> str:
    """SHA-256 over ids, outcomes and features, for data that did not come with one."""
    digest = hashlib.sha256()
    digest.update("\n".join(data.ids).encode())
    digest.update(np.ascontiguousarray(data.y, dtype=np.int64).tobytes())
    digest.update(np.ascontiguousarray(data.x, dtype=np.float64).tobytes())
    digest.update("\n".join(data.feature_names).encode())
    return digest.hexdigest()


def _figures(reg: RegisteredModel) -> None:
    meta = reg.meta
    cal = plots.calibration_png(
        meta["calibration_curve"], meta["metrics"], reg.file("calibration.png")
    )
    dca = plots.decision_curve_png(meta["decision_curve"], reg.file("decision_curve.png"))
    page = plots.evaluation_html(
        f"{meta['title']} — {reg.id}",
        meta["metrics"],
        meta["audit"],
        [cal, dca],
        reg.file("evaluation.html"),
    )
    update_meta(
        reg,
        files={
            "calibration_png": cal.name,
            "decision_curve_png": dca.name,
            "evaluation_html": page.name,
        },
    )
