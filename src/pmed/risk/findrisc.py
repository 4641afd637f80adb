"""FINDRISC: the Finnish Diabetes Risk Score, 10-year risk of type 2 diabetes.

Lindström J, Tuomilehto J. The diabetes risk score: a practical tool to predict type 2 diabetes
risk. Diabetes Care 2003;26:725-731, Table 2 (the full score's items and points) and the FINDRISC
form's risk bands (<7 low, 7–11 slightly elevated, 12–14 moderate, 15–20 high, >20 very high).
Age is counted in completed years; waist bands are sex-specific.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from pmed.findings import Code, Contribution, Evidence, FindingKind, Severity
from pmed.knowledge import load
from pmed.risk import input_catalog as ic
from pmed.risk.bands import band_from, item, points, points_columns
from pmed.risk.calculator import PMED_RISK_SYSTEM, Calculator, Evaluation
from pmed.risk.inputs import flag, number, option

__all__ = ["Findrisc"]


class Findrisc(Calculator):
    """FINDRISC (Lindström 2003)."""

    name = "findrisc"
    title = "FINDRISC type 2 diabetes risk score (Lindström 2003)"
    unit = "points"
    kind = FindingKind.SCORE
    code = Code(system=PMED_RISK_SYSTEM, code="findrisc", display=title)
    inputs = (
        ic.AGE,
        ic.SEX,
        ic.BMI,
        number("waist_cm", "waist circumference", "cm", 40, 200, "LOINC 8280-0"),
        flag(
            "physical_activity",
            "at least 30 minutes of physical activity daily",
            "LOINC 68516-4 (physical activity) or questionnaire",
        ),
        flag(
            "daily_fruit_vegetables", "eats vegetables, fruit or berries every day", "questionnaire"
        ),
        flag(
            "antihypertensive_medication",
            "ever regularly taken antihypertensive medication",
            "codeset antihypertensives (RxNorm)",
        ),
        flag(
            "high_glucose_history",
            "ever found to have high blood glucose",
            "codeset hyperglycaemia (SNOMED CT)",
        ),
        option(
            "family_history_diabetes",
            "relatives with diabetes",
            ("none", "second_degree", "first_degree"),
            "FamilyMemberHistory (SNOMED 73211009)",
        ),
    )
    evidence = (
        Evidence(
            title="Lindström J, Tuomilehto J. The diabetes risk score: a practical tool to predict "
            "type 2 diabetes risk. Diabetes Care 2003;26:725-731, Table 2",
            url="https://doi.org/10.2337/diacare.26.3.725",
        ),
    )
    knowledge = ("risk/findrisc",)

    def _items(self, x: Mapping[str, Any]) -> list[Contribution]:
        k = load("risk/findrisc").data
        return [
            item("age", x["age"], points(k["age"], math.floor(x["age"]))),
            item("bmi", x["bmi"], points(k["bmi"], x["bmi"])),
            item("waist_cm", x["waist_cm"], points(k["waist_cm"][x["sex"]], x["waist_cm"])),
            item(
                "physical_activity",
                x["physical_activity"],
                0 if x["physical_activity"] else k["no_physical_activity"],
            ),
            item(
                "daily_fruit_vegetables",
                x["daily_fruit_vegetables"],
                0 if x["daily_fruit_vegetables"] else k["not_daily_fruit_vegetables"],
            ),
            item(
                "antihypertensive_medication",
                x["antihypertensive_medication"],
                k["antihypertensive_medication"] if x["antihypertensive_medication"] else 0,
            ),
            item(
                "high_glucose_history",
                x["high_glucose_history"],
                k["high_glucose_history"] if x["high_glucose_history"] else 0,
            ),
            item(
                "family_history_diabetes",
                x["family_history_diabetes"],
                k["family_history_diabetes"][x["family_history_diabetes"]],
            ),
        ]

    def evaluate(self, x: Mapping[str, Any], **options: Any) -> Evaluation:
        items = self._items(x)
        score = float(sum(c.contribution for c in items))
        band = band_from(load("risk/findrisc").data["risk_bands"], score)
        return Evaluation(
            value=score,
            terms=items,
            summary=f"FINDRISC {score:g} points: {band['band']} 10-year type 2 diabetes risk "
            f"({band['ten_year_risk']})",
            severity=Severity(band["severity"]),
            band=str(band["band"]),
            details={"ten_year_risk": band["ten_year_risk"]},
        )

    def evaluate_columns(self, cols: Mapping[str, np.ndarray], **options: Any) -> np.ndarray:
        k = load("risk/findrisc").data
        male = cols["sex"] == "male"
        waist = np.where(
            male,
            points_columns(k["waist_cm"]["male"], cols["waist_cm"]),
            points_columns(k["waist_cm"]["female"], cols["waist_cm"]),
        )
        fam = np.full(male.shape, np.nan)
        for level, pts in k["family_history_diabetes"].items():
            fam = np.where(cols["family_history_diabetes"] == level, float(pts), fam)
        return np.asarray(
            points_columns(k["age"], np.floor(cols["age"]))
            + points_columns(k["bmi"], cols["bmi"])
            + waist
            + (1 - cols["physical_activity"]) * k["no_physical_activity"]
            + (1 - cols["daily_fruit_vegetables"]) * k["not_daily_fruit_vegetables"]
            + cols["antihypertensive_medication"] * k["antihypertensive_medication"]
            + cols["high_glucose_history"] * k["high_glucose_history"]
            + fam
        )
