"""Revised Pooled Cohort Equations: 10-year ASCVD risk (Yadlowsky 2018).

Yadlowsky S, Hayward RA, Sussman JB, McClelland RL, Min YI, Basu S. Clinical implications of
revised pooled cohort equations for estimating atherosclerotic cardiovascular disease risk.
Ann Intern Med 2018;169:20-29, supplement (sex-specific logistic model; coefficients as
transcribed in bcjaeger/PooledCohort, MIT). Risk = 1 / (1 + exp(−Σβx)); Black race is a term,
other races use the non-Black equation. Valid, like the 2013 equations, for ages 40–79.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import numpy as np

from pmed.findings import Code, Evidence
from pmed.knowledge import load
from pmed.risk import input_catalog as ic
from pmed.risk.calculator import PMED_RISK_SYSTEM, Calculator, Evaluation, logistic
from pmed.risk.linear import band_and_severity, predictor, predictor_columns, terms

__all__ = ["RevisedPooledCohort"]

SEXES = ("female", "male")


def features(
    age: Any, black: Any, tc: Any, hdl: Any, sbp: Any, treated: Any, smoker: Any, diabetes: Any
) -> dict[str, Any]:
    """The revised-PCE terms, for a float patient or numpy columns."""
    ratio = tc / hdl
    return {
        "age": age,
        "black": black,
        "sbp_squared": sbp * sbp,
        "sbp": sbp,
        "bp_treated": treated,
        "diabetes": diabetes,
        "smoker": smoker,
        "tc_hdl_ratio": ratio,
        "age_x_black": age * black,
        "sbp_x_bp_treated": sbp * treated,
        "sbp_x_black": sbp * black,
        "bp_treated_x_black": treated * black,
        "age_x_sbp": age * sbp,
        "black_x_diabetes": black * diabetes,
        "black_x_smoker": black * smoker,
        "black_x_tc_hdl_ratio": black * ratio,
        "black_x_sbp_x_bp_treated": black * sbp * treated,
        "black_x_sbp_x_age": black * sbp * age,
    }


class RevisedPooledCohort(Calculator):
    """Revised PCE (Yadlowsky 2018)."""

    name = "pce-revised"
    title = "10-year ASCVD risk (revised Pooled Cohort Equations, Yadlowsky 2018)"
    unit = "%"
    code = Code(system=PMED_RISK_SYSTEM, code="pce-revised", display=title)
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
            title="Yadlowsky S et al. Clinical implications of revised pooled cohort equations "
            "for estimating atherosclerotic cardiovascular disease risk. Ann Intern Med "
            "2018;169:20-29 (supplement)",
            url="https://doi.org/10.7326/M17-3011",
        ),
    )
    knowledge = ("risk/pce_revised", "risk/risk_categories")
    risk_factors = ("tc", "hdl", "sbp", "bp_treated", "smoker", "diabetes")
    cardiovascular = True

    def evaluate(self, x: Mapping[str, Any], **options: Any) -> Evaluation:
        not_applicable = self.not_applicable_for(x)
        if not_applicable is not None:
            return not_applicable
        coefs = load("risk/pce_revised").data[x["sex"]]
        feats = features(
            x["age"],
            float(x["race"] == "black"),
            x["tc"],
            x["hdl"],
            x["sbp"],
            float(x["bp_treated"]),
            float(x["smoker"]),
            float(x["diabetes"]),
        )
        contributions = terms(feats, coefs, unit="log-odds")
        lp = predictor(contributions, coefs["intercept"])
        risk = 100.0 * float(logistic(lp))
        band, severity = band_and_severity(
            load("risk/risk_categories").data["ascvd_10y"]["bands"], risk
        )
        return Evaluation(
            value=risk,
            terms=contributions,
            summary=f"10-year ASCVD risk {risk:.1f}% ({band}), revised Pooled Cohort Equations",
            severity=severity,
            band=band,
            details={"equation": x["sex"], "linear_predictor": lp, "intercept": coefs["intercept"]},
        )

    def evaluate_columns(self, cols: Mapping[str, np.ndarray], **options: Any) -> np.ndarray:
        table = load("risk/pce_revised").data
        group = (cols["sex"] == "male").astype(np.int64)
        black = (cols["race"] == "black").astype(float)
        feats = features(
            cols["age"],
            black,
            cols["tc"],
            cols["hdl"],
            cols["sbp"],
            cols["bp_treated"],
            cols["smoker"],
            cols["diabetes"],
        )
        lp = predictor_columns(feats, [table[s] for s in SEXES], group, constant="intercept")
        low, high = self.spec("age").applies or (40, 79)
        age = cols["age"]
        return np.where((age >= low) & (age <= high), 100.0 * logistic(lp), np.nan)
