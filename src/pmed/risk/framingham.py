"""Framingham general cardiovascular disease risk, 10 years (D'Agostino 2008).

D'Agostino RB Sr, Vasan RS, Pencina MJ, et al. General cardiovascular risk profile for use in
primary care: the Framingham Heart Study. Circulation 2008;117:743-753, Table 2 (sex-specific
Cox coefficients, baseline survival S0(10), mean linear predictor) and the paper's worked
examples. Risk = 1 − S0^exp(Σβx − mean). Derived in ages 30–74.
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

__all__ = ["FraminghamCVD"]

SEXES = ("female", "male")


def features(
    age: Any, tc: Any, hdl: Any, sbp: Any, treated: Any, smoker: Any, diabetes: Any
) -> dict[str, Any]:
    """The Table 2 terms, for a float patient or numpy columns."""
    ln_sbp = np.log(sbp)
    return {
        "ln_age": np.log(age),
        "ln_tc": np.log(tc),
        "ln_hdl": np.log(hdl),
        "ln_untreated_sbp": ln_sbp * (1 - treated),
        "ln_treated_sbp": ln_sbp * treated,
        "smoker": smoker,
        "diabetes": diabetes,
    }


class FraminghamCVD(Calculator):
    """Framingham general CVD (D'Agostino 2008, Table 2)."""

    name = "framingham-cvd"
    title = "10-year general cardiovascular disease risk (Framingham, D'Agostino 2008)"
    unit = "%"
    code = Code(system=PMED_RISK_SYSTEM, code="framingham-cvd", display=title)
    inputs = (
        replace(ic.AGE, low=30, high=74),
        ic.SEX,
        replace(ic.TC, low=100, high=405),
        replace(ic.HDL, low=10, high=100),
        replace(ic.SBP, low=90, high=200),
        ic.BP_TREATED,
        ic.SMOKER,
        ic.DIABETES,
    )
    evidence = (
        Evidence(
            title="D'Agostino RB Sr et al. General cardiovascular risk profile for use in primary "
            "care: the Framingham Heart Study. Circulation 2008;117:743-753, Table 2",
            url="https://doi.org/10.1161/CIRCULATIONAHA.107.699579",
        ),
    )
    knowledge = ("risk/framingham_cvd", "risk/risk_categories")
    risk_factors = ("tc", "hdl", "sbp", "bp_treated", "smoker", "diabetes")
    cardiovascular = True

    def evaluate(self, x: Mapping[str, Any], **options: Any) -> Evaluation:
        coefs = load("risk/framingham_cvd").data[x["sex"]]
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
            load("risk/risk_categories").data["framingham_10y"]["bands"], risk
        )
        return Evaluation(
            value=risk,
            terms=contributions,
            summary=f"10-year cardiovascular disease risk {risk:.1f}% ({band}), Framingham 2008",
            severity=severity,
            band=band,
            details={
                "equation": x["sex"],
                "individual_sum": lp,
                "mean": coefs["mean"],
                "baseline_survival": coefs["baseline_survival"],
            },
        )

    def evaluate_columns(self, cols: Mapping[str, np.ndarray], **options: Any) -> np.ndarray:
        table = load("risk/framingham_cvd").data
        rows = [table[s] for s in SEXES]
        group = (cols["sex"] == "male").astype(np.int64)
        feats = features(
            cols["age"],
            cols["tc"],
            cols["hdl"],
            cols["sbp"],
            cols["bp_treated"],
            cols["smoker"],
            cols["diabetes"],
        )
        lp = predictor_columns(feats, rows, group)
        s0 = np.array([r["baseline_survival"] for r in rows])[group]
        mean = np.array([r["mean"] for r in rows])[group]
        return np.asarray(100.0 * survival_risk(s0, lp, mean))
