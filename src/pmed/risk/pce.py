"""ACC/AHA 2013 Pooled Cohort Equations: 10-year risk of a first hard ASCVD event.

Goff DC Jr et al., 2013 ACC/AHA Guideline on the Assessment of Cardiovascular Risk,
Circulation 2014;129(25 Suppl 2):S49-S73, Appendix 7, Table A (coefficients, mean of
coefficient × value, baseline survival) and its worked example. Risk = 1 − S0^exp(Σβx − mean).

Valid for ages 40–79: outside that range the result says so instead of giving a number. The
guideline applies the white equations to races other than African American. Coefficients are
used as printed in Table A; at that precision the worked example's white man scores 5.385%
(5.4%), where the table prints 5.3% because it rounds the individual sum to 60.69 first.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import numpy as np

from pmed.findings import Code, Evidence
from pmed.knowledge import load
from pmed.risk import input_catalog as ic
from pmed.risk.calculator import PMED_RISK_SYSTEM, Calculator, Evaluation, survival_risk
from pmed.risk.linear import band_and_severity, predictor, predictor_columns, terms

__all__ = ["PooledCohort"]

GROUPS = ("white_female", "black_female", "white_male", "black_male")


def _group(sex: str, race: str) -> str:
    return f"{'black' if race == 'black' else 'white'}_{sex}"


def features(
    age: Any, tc: Any, hdl: Any, sbp: Any, treated: Any, smoker: Any, diabetes: Any
) -> dict[str, Any]:
    """The Table A terms, for a float patient or numpy columns."""
    ln_age, ln_tc, ln_hdl, ln_sbp = np.log(age), np.log(tc), np.log(hdl), np.log(sbp)
    untreated = 1 - treated
    return {
        "ln_age": ln_age,
        "ln_age_squared": ln_age * ln_age,
        "ln_tc": ln_tc,
        "ln_age_x_ln_tc": ln_age * ln_tc,
        "ln_hdl": ln_hdl,
        "ln_age_x_ln_hdl": ln_age * ln_hdl,
        "ln_treated_sbp": ln_sbp * treated,
        "ln_age_x_ln_treated_sbp": ln_age * ln_sbp * treated,
        "ln_untreated_sbp": ln_sbp * untreated,
        "ln_age_x_ln_untreated_sbp": ln_age * ln_sbp * untreated,
        "smoker": smoker,
        "ln_age_x_smoker": ln_age * smoker,
        "diabetes": diabetes,
    }


class PooledCohort(Calculator):
    """ACC/AHA 2013 PCE (Goff 2014, Table A)."""

    name = "pce"
    title = "10-year ASCVD risk (ACC/AHA Pooled Cohort Equations 2013)"
    unit = "%"
    code = Code(system=PMED_RISK_SYSTEM, code="pce", display=title)
    inputs = (
        replace(ic.AGE, applies=(40, 79)),
        ic.SEX,
        ic.RACE,
        ic.TC,
        ic.HDL,
        ic.SBP,
        ic.BP_TREATED,
        ic.SMOKER,
        ic.DIABETES,
    )
    evidence = (
        Evidence(
            title="Goff DC Jr et al. 2013 ACC/AHA Guideline on the Assessment of Cardiovascular "
            "Risk. Circulation 2014;129:S49-S73, Table A",
            url="https://doi.org/10.1161/01.cir.0000437741.48606.98",
        ),
    )
    knowledge = ("risk/pce", "risk/risk_categories")
    risk_factors = ("tc", "hdl", "sbp", "bp_treated", "smoker", "diabetes")
    cardiovascular = True

    def _table(self) -> Mapping[str, Any]:
        table: Mapping[str, Any] = load("risk/pce").data
        return table

    def evaluate(self, x: Mapping[str, Any], **options: Any) -> Evaluation:
        not_applicable = self.not_applicable_for(x)
        if not_applicable is not None:
            return not_applicable
        group = _group(x["sex"], x["race"])
        coefs = self._table()[group]
        feats = features(
            x["age"],
            x["tc"],
            x["hdl"],
            x["sbp"],
            float(x["bp_treated"]),
            float(x["smoker"]),
            float(x["diabetes"]),
        )
        contributions = terms(feats, coefs)
        lp = predictor(contributions)
        risk = 100.0 * float(survival_risk(coefs["baseline_survival"], lp, coefs["mean"]))
        band, severity = band_and_severity(
            load("risk/risk_categories").data["ascvd_10y"]["bands"], risk
        )
        note = "" if x["race"] in ("white", "black") else " (white equations, per guideline)"
        return Evaluation(
            value=risk,
            terms=contributions,
            summary=f"10-year ASCVD risk {risk:.1f}% ({band}), Pooled Cohort Equations{note}",
            severity=severity,
            band=band,
            details={
                "equation": group,
                "individual_sum": lp,
                "mean": coefs["mean"],
                "baseline_survival": coefs["baseline_survival"],
            },
        )

    def evaluate_columns(self, cols: Mapping[str, np.ndarray], **options: Any) -> np.ndarray:
        table = self._table()
        male = cols["sex"] == "male"
        black = cols["race"] == "black"
        group = (2 * male + black).astype(np.int64)  # index into GROUPS
        low, high = self.spec("age").applies or (40, 79)
        age = cols["age"]
        feats = features(
            age,
            cols["tc"],
            cols["hdl"],
            cols["sbp"],
            cols["bp_treated"],
            cols["smoker"],
            cols["diabetes"],
        )
        coef_rows = [table[g] for g in GROUPS]
        lp = predictor_columns(feats, coef_rows, group)
        s0 = np.array([c["baseline_survival"] for c in coef_rows])[group]
        mean = np.array([c["mean"] for c in coef_rows])[group]
        risk = 100.0 * survival_risk(s0, lp, mean)
        return np.where((age >= low) & (age <= high), risk, np.nan)
