"""HAS-BLED: 1-year major bleeding risk in atrial fibrillation on anticoagulation.

Pisters R, Lane DA, Nieuwlaat R, de Vos CB, Crijns HJGM, Lip GYH. A novel user-friendly score
(HAS-BLED) to assess 1-year risk of major bleeding in patients with atrial fibrillation.
Chest 2010;138:1093-1100: Table 2 (Hypertension (uncontrolled, SBP > 160 mm Hg), Abnormal renal
and liver function, Stroke, Bleeding, Labile INR, Elderly (> 65 years), Drugs (antiplatelet or
NSAID) and alcohol (>= 8 drinks/week), 1 point each) and Table 3 (bleeds per 100 patient-years by
score). A score >= 3 marks high risk: correct the modifiable factors, review more often.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from pmed.findings import Code, Contribution, Evidence, FindingKind, Severity
from pmed.knowledge import load
from pmed.risk import input_catalog as ic
from pmed.risk.bands import band_from, item
from pmed.risk.calculator import PMED_RISK_SYSTEM, Calculator, Evaluation
from pmed.risk.inputs import flag

__all__ = ["HasBled"]

ITEMS = (
    "uncontrolled_hypertension",
    "abnormal_renal_function",
    "abnormal_liver_function",
    "stroke",
    "bleeding_history",
    "labile_inr",
    "antiplatelet_or_nsaid",
    "alcohol",
)


class HasBled(Calculator):
    """HAS-BLED (Pisters 2010)."""

    name = "has-bled"
    title = "HAS-BLED major bleeding risk in atrial fibrillation (Pisters 2010)"
    unit = "points"
    kind = FindingKind.SCORE
    code = Code(system=PMED_RISK_SYSTEM, code="has-bled", display=title)
    inputs = (
        ic.AGE,
        flag(
            "uncontrolled_hypertension",
            "uncontrolled hypertension (SBP > 160 mmHg)",
            "LOINC 8480-6 > 160",
        ),
        flag(
            "abnormal_renal_function",
            "dialysis, transplant or creatinine >= 2.26 mg/dL",
            "LOINC 2160-0 >= 2.26 mg/dL",
        ),
        flag(
            "abnormal_liver_function",
            "cirrhosis or bilirubin > 2x / AST, ALT > 3x normal",
            "codeset liver_disease (SNOMED CT)",
        ),
        flag("stroke", "prior stroke", "codeset stroke_tia (SNOMED CT)"),
        flag(
            "bleeding_history",
            "prior major bleeding or predisposition",
            "codeset bleeding_history (SNOMED CT)",
        ),
        flag(
            "labile_inr",
            "labile INR (time in range < 60%)",
            "LOINC 6301-6 (INR): < 60% in 2.0-3.0 over 6 months",
        ),
        flag(
            "antiplatelet_or_nsaid",
            "antiplatelet or NSAID use",
            "codesets antiplatelets, nsaids (RxNorm)",
        ),
        flag("alcohol", "alcohol >= 8 drinks a week", "LOINC 11331-6 / AUDIT-C"),
    )
    evidence = (
        Evidence(
            title="Pisters R et al. A novel user-friendly score (HAS-BLED) to assess 1-year risk "
            "of major bleeding in patients with atrial fibrillation. Chest 2010;138:1093-1100, "
            "Tables 2 and 3",
            url="https://doi.org/10.1378/chest.10-0134",
        ),
    )
    knowledge = ("risk/has_bled",)

    def _items(self, x: Mapping[str, Any]) -> list[Contribution]:
        k = load("risk/has_bled").data
        out = [item(name, x[name], k["items"][name] if x[name] else 0) for name in ITEMS]
        out.append(item("age", x["age"], 1 if x["age"] > k["elderly_age_over"] else 0))
        return out

    def evaluate(self, x: Mapping[str, Any], **options: Any) -> Evaluation:
        k = load("risk/has_bled").data
        items = self._items(x)
        score = sum(c.contribution for c in items)
        band = band_from(k["bands"], score)
        rate = k["bleeds_per_100_patient_years"].get(str(int(score)))
        rate_text = (
            f"{rate:g} major bleeds per 100 patient-years"
            if rate is not None
            else "bleeding rate not reported above 5 points"
        )
        return Evaluation(
            value=float(score),
            terms=items,
            summary=f"HAS-BLED {score:g}: {band['band']} bleeding risk ({rate_text})",
            severity=Severity(band["severity"]),
            band=str(band["band"]),
            details={"bleeds_per_100_patient_years": rate},
        )

    def evaluate_columns(self, cols: Mapping[str, np.ndarray], **options: Any) -> np.ndarray:
        k = load("risk/has_bled").data
        total = (cols["age"] > k["elderly_age_over"]).astype(float)
        total = np.where(np.isnan(cols["age"]), np.nan, total)
        for name in ITEMS:
            total = total + cols[name] * k["items"][name]
        return np.asarray(total)
