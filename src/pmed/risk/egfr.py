"""CKD-EPI 2021 creatinine eGFR (race-free) and the KDIGO GFR category.

Inker LA, Eneanya ND, Coresh J, et al. New creatinine- and cystatin C-based equations to estimate
GFR without race. N Engl J Med 2021;385:1737-1749, Table 2:
eGFR = 142 × min(Scr/κ, 1)^α × max(Scr/κ, 1)^−1.200 × 0.9938^age × 1.012 [female], with
κ = 0.7 (female) / 0.9 (male) and α = −0.241 / −0.302; Scr in mg/dL. GFR categories G1–G5 from
KDIGO 2012 (Kidney Int Suppl 2013;3:1-150, Table 5).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from pmed.findings import Code, Contribution, Evidence, FindingKind, Severity
from pmed.knowledge import load
from pmed.risk import input_catalog as ic
from pmed.risk.bands import band_from
from pmed.risk.calculator import Calculator, Evaluation
from pmed.risk.inputs import number

__all__ = ["EgfrCkdEpi2021", "egfr_ckd_epi_2021"]

LOINC = "http://loinc.org"


def egfr_ckd_epi_2021(scr: Any, age: Any, female: Any) -> Any:
    """eGFR in mL/min/1.73 m² for a float patient or numpy columns (`female` 0/1)."""
    k = load("risk/ckd_epi_2021").data
    kappa = np.where(female, k["kappa"]["female"], k["kappa"]["male"])
    alpha = np.where(female, k["alpha"]["female"], k["alpha"]["male"])
    ratio = scr / kappa
    return (
        k["constant"]
        * np.power(np.minimum(ratio, 1.0), alpha)
        * np.power(np.maximum(ratio, 1.0), k["exponent_above"])
        * np.power(k["age_base"], age)
        * np.where(female, k["female_factor"], 1.0)
    )


class EgfrCkdEpi2021(Calculator):
    """CKD-EPI 2021 creatinine equation (Inker 2021, Table 2)."""

    name = "egfr-ckd-epi-2021"
    title = "eGFR, CKD-EPI 2021 creatinine equation (race-free)"
    unit = "mL/min/1.73m2"
    kind = FindingKind.SCORE
    code = Code(
        system=LOINC,
        code="98979-8",
        display="Glomerular filtration rate/1.73 sq M.predicted [Volume Rate/Area] in Serum, "
        "Plasma or Blood by Creatinine-based formula (CKD-EPI 2021)",
    )
    inputs = (
        ic.AGE,
        ic.SEX,
        number("scr_mg_dl", "serum creatinine", "mg/dL", 0.1, 25, "LOINC 2160-0"),
    )
    evidence = (
        Evidence(
            title="Inker LA et al. New creatinine- and cystatin C-based equations to estimate GFR "
            "without race. N Engl J Med 2021;385:1737-1749, Table 2",
            url="https://doi.org/10.1056/NEJMoa2102953",
        ),
        Evidence(
            title="KDIGO 2012 Clinical Practice Guideline for the Evaluation and Management of "
            "CKD. Kidney Int Suppl 2013;3:1-150, GFR categories",
            url="https://kdigo.org/guidelines/ckd-evaluation-and-management/",
        ),
    )
    knowledge = ("risk/ckd_epi_2021",)

    def evaluate(self, x: Mapping[str, Any], **options: Any) -> Evaluation:
        female = x["sex"] == "female"
        value = float(egfr_ckd_epi_2021(x["scr_mg_dl"], x["age"], female))
        stages = sorted(load("risk/ckd_epi_2021").data["kdigo_g_stages"], key=lambda s: s["from"])
        stage = band_from(stages, value)
        # Explanation: each factor's multiplicative effect, as ln(factor) (they sum to ln eGFR).
        k = load("risk/ckd_epi_2021").data
        kappa = k["kappa"][x["sex"]]
        ratio = x["scr_mg_dl"] / kappa
        parts = {
            "constant": np.log(k["constant"]),
            "creatinine": k["alpha"][x["sex"]] * np.log(min(ratio, 1.0))
            + k["exponent_above"] * np.log(max(ratio, 1.0)),
            "age": x["age"] * np.log(k["age_base"]),
            "sex": np.log(k["female_factor"]) if female else 0.0,
        }
        values = {"constant": None, "creatinine": x["scr_mg_dl"], "age": x["age"], "sex": x["sex"]}
        terms = [
            Contribution(factor=name, value=values[name], contribution=float(v), unit="ln(eGFR)")
            for name, v in parts.items()
        ]
        return Evaluation(
            value=round(value, 1),
            terms=terms,
            summary=f"eGFR {value:.1f} mL/min/1.73m² (CKD-EPI 2021): KDIGO {stage['stage']}, "
            f"{stage['label']}",
            severity=Severity(stage["severity"]),
            band=str(stage["stage"]),
            details={"egfr_unrounded": value, "kdigo_stage": stage["stage"]},
        )

    def evaluate_columns(self, cols: Mapping[str, np.ndarray], **options: Any) -> np.ndarray:
        female = cols["sex"] == "female"
        value = egfr_ckd_epi_2021(cols["scr_mg_dl"], cols["age"], female)
        return np.asarray(np.round(value, 1))
