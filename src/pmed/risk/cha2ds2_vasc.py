"""CHA2DS2-VASc: stroke and thromboembolism risk in atrial fibrillation.

Lip GYH, Nieuwlaat R, Pisters R, Lane DA, Crijns HJGM. Refining clinical risk stratification for
predicting stroke and thromboembolism in atrial fibrillation using a novel risk factor-based
approach. Chest 2010;137:263-272 (Table 1: C, H, A2, D, S2, V, A, Sc). Adjusted stroke rate per
score from the 2010 ESC AF guideline (Eur Heart J 2010;31:2369-2429, Table 8b). Bands use the
sex-adjusted score (female sex counts only alongside another factor, 2019 AHA/ACC/HRS update):
low 0, moderate 1, high >= 2 (anticoagulation recommended).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from pmed.findings import Code, Contribution, Evidence, FindingKind, Severity
from pmed.knowledge import load
from pmed.risk import input_catalog as ic
from pmed.risk.bands import band_from, item, points, points_columns
from pmed.risk.calculator import PMED_RISK_SYSTEM, Calculator, Evaluation
from pmed.risk.inputs import flag

__all__ = ["Cha2ds2Vasc"]

ITEMS = ("chf", "hypertension", "diabetes", "stroke_tia", "vascular_disease")


class Cha2ds2Vasc(Calculator):
    """CHA2DS2-VASc (Lip 2010)."""

    name = "cha2ds2-vasc"
    title = "CHA2DS2-VASc stroke risk in atrial fibrillation (Lip 2010)"
    unit = "points"
    kind = FindingKind.SCORE
    code = Code(system=PMED_RISK_SYSTEM, code="cha2ds2-vasc", display=title)
    inputs = (
        ic.AGE,
        ic.SEX,
        flag(
            "chf",
            "congestive heart failure or LV dysfunction",
            "codeset heart_failure (SNOMED CT 42343007 <<)",
        ),
        flag("hypertension", "hypertension", "codeset hypertension (SNOMED CT 38341003 <<)"),
        ic.DIABETES,
        flag(
            "stroke_tia",
            "prior stroke, TIA or thromboembolism",
            "codeset stroke_tia (SNOMED CT 230690007 <<, 266257000 <<)",
        ),
        flag(
            "vascular_disease",
            "vascular disease (prior MI, PAD, aortic plaque)",
            "codesets vascular_disease, mi_chd (SNOMED CT)",
        ),
    )
    evidence = (
        Evidence(
            title="Lip GYH et al. Refining clinical risk stratification for predicting stroke and "
            "thromboembolism in atrial fibrillation. Chest 2010;137:263-272, Table 1",
            url="https://doi.org/10.1378/chest.09-1584",
        ),
    )
    knowledge = ("risk/cha2ds2_vasc",)

    def _items(self, x: Mapping[str, Any]) -> list[Contribution]:
        k = load("risk/cha2ds2_vasc").data
        out = [item(name, x[name], k["items"][name] if x[name] else 0) for name in ITEMS]
        out.append(item("age", x["age"], points(k["age"], x["age"])))
        out.append(item("sex", x["sex"], k["items"]["female"] if x["sex"] == "female" else 0))
        return out

    def evaluate(self, x: Mapping[str, Any], **options: Any) -> Evaluation:
        k = load("risk/cha2ds2_vasc").data
        items = self._items(x)
        score = sum(c.contribution for c in items)
        adjusted = score - (k["items"]["female"] if x["sex"] == "female" else 0)
        band = band_from(k["bands_by_sex_adjusted_score"], adjusted)
        rates = k["stroke_rate_percent_per_year"]
        rate = rates[min(int(score), len(rates) - 1)]
        return Evaluation(
            value=float(score),
            terms=items,
            summary=f"CHA2DS2-VASc {score:g}: {band['band']} stroke risk "
            f"(adjusted stroke rate {rate:g}%/year)",
            severity=Severity(band["severity"]),
            band=str(band["band"]),
            details={"stroke_rate_percent_per_year": rate, "sex_adjusted_score": adjusted},
        )

    def evaluate_columns(self, cols: Mapping[str, np.ndarray], **options: Any) -> np.ndarray:
        k = load("risk/cha2ds2_vasc").data
        total = points_columns(k["age"], cols["age"])
        for name in ITEMS:
            total = total + cols[name] * k["items"][name]
        female = np.where(cols["sex"] == "female", float(k["items"]["female"]), 0.0)
        return np.asarray(total + female)
