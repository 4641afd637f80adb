"""A registered model as an engine: one patient's feature vector in, a `Finding` out.

The finding (kind `prediction`) carries the risk in percent, a one-line summary, severity
relative to the model's decision threshold, the per-patient SHAP contributions in words, the
model card's headline metrics as evidence, and provenance (model id and content hash, training
data fingerprint, input resources). Patients outside the model's target population still get a
prediction, but the finding says so and its severity is not raised above `info`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from pmed import __version__
from pmed.errors import InputError
from pmed.findings import (
    Code,
    Contribution,
    Evidence,
    Explanation,
    Finding,
    FindingKind,
    Provenance,
    Severity,
)
from pmed.models.explain import shap_values, top_contributors
from pmed.models.registry import RegisteredModel

__all__ = ["MODEL_SYSTEM", "predict"]

MODEL_SYSTEM = "urn:pmed:model"


def _vector(
    reg: RegisteredModel, features: Mapping[str, float | None] | Sequence[float]
) -> np.ndarray:
    names = reg.meta["feature_names"]
    if isinstance(features, Mapping):
        unknown = sorted(set(features) - set(names))
        if unknown:
            raise InputError(f"features not used by model {reg.id}: {', '.join(unknown)}")
        row = [features.get(n) for n in names]
    else:
        row = list(features)
        if len(row) != len(names):
            raise InputError(f"model {reg.id} takes {len(names)} features, got {len(row)}")
    return np.array([[math.nan if v is None else float(v) for v in row]], dtype=np.float64)


def predict(
    reg: RegisteredModel,
    features: Mapping[str, float | None] | Sequence[float],
    *,
    subject: str | None = None,
    inputs: Sequence[str] = (),
    in_target: bool = True,
    target_note: str = "",
    top_k: int = 5,
) -> Finding:
    """Score one patient with a registered model and explain the score."""
    x = _vector(reg, features)
    model = reg.model
    risk = float(model.predict_proba(x)[0])
    background = np.array(reg.meta.get("background_means") or [], dtype=np.float64)
    bg = background[None, :] if background.size == x.shape[1] else None
    values, base = shap_values(model, x, background=bg)
    labels = reg.meta.get("feature_labels", {})
    units = reg.meta.get("feature_units", {})
    top = top_contributors(
        values[0], x[0], reg.meta["feature_names"], labels=labels, units=units, k=top_k
    )
    met = reg.meta.get("metrics", {})
    threshold = float(
        reg.meta.get("audit_settings", {}).get("threshold") or met.get("threshold", 0.1)
    )
    if not in_target:
        severity = Severity.INFO
    elif risk >= 2 * threshold:
        severity = Severity.HIGH
    elif risk >= threshold:
        severity = Severity.MODERATE
    else:
        severity = Severity.LOW
    title = reg.meta.get("title") or reg.meta.get("cohort_name", reg.id)
    summary = f"Predicted risk of {title}: {risk * 100:.1f}% (learned model {reg.id})"
    if not in_target:
        summary += f" — outside the model's population ({target_note or 'see the model card'})"
    horizon = (reg.meta.get("cohort", {}).get("outcome") or {}).get("horizon_days")
    ci = met.get("auroc_ci") or [math.nan, math.nan]
    flags = reg.meta.get("audit", {}).get("flags", [])
    detail = (
        f"Test AUROC {met.get('auroc', math.nan):.3f} (95% CI {ci[0]:.3f}–{ci[1]:.3f}), "
        f"calibration slope {met.get('calibration_slope', math.nan):.2f}, "
        f"{reg.meta.get('split', {}).get('test_patients', '?')} held-out patients"
    )
    if flags:
        detail += "; fairness flags: " + ", ".join(
            f"{f['attribute']}={f['group']} ({f['metric']})" for f in flags
        )
    return Finding(
        kind=FindingKind.PREDICTION,
        code=Code(system=MODEL_SYSTEM, code=reg.id, display=title),
        value=round(risk * 100, 2),
        unit="%",
        summary=summary,
        severity=severity,
        subject=subject,
        evidence=[
            Evidence(title=f"Model card {reg.id}", url=str(reg.file("card.html")), detail=detail)
        ],
        explanation=Explanation(
            contributions=[
                Contribution(
                    factor=c["feature"],
                    value=c["value"],
                    contribution=c["contribution"],
                    unit="log-odds",
                    source=c["text"],
                )
                for c in top
            ],
            text="; ".join(c["text"] for c in top)
            + f" (baseline log-odds {base:+.2f}; SHAP, Lundberg & Lee 2017)",
        ),
        provenance=Provenance(
            engine="pmed.models",
            engine_version=__version__,
            knowledge={
                "model": f"{reg.id} sha256:{reg.meta['content_hash']}",
                "training_data": f"sha256:{reg.meta.get('training_data_fingerprint', '')}",
            },
            inputs=list(inputs),
        ),
        details={
            "model_id": reg.id,
            "algorithm": reg.meta.get("algorithm"),
            "horizon_days": horizon,
            "in_target_population": in_target,
            "target_note": target_note,
            "threshold": threshold,
            "features": {
                n: (None if math.isnan(v) else float(v))
                for n, v in zip(reg.meta["feature_names"], x[0], strict=True)
            },
        },
    )
