"""AHA PREVENT equations: 10- and 30-year risk of total CVD, ASCVD, heart failure, CHD, stroke.

Khan SS, Matsushita K, Sang Y, et al. Development and validation of the American Heart
Association's PREVENT equations. Circulation 2024;149:430-449; Supplemental Table S12 (the
coefficients of the base, +UACR, +HbA1c, +SDI and full models, with a worked example).
Coefficients are read from `risk/prevent` (converted by tools/build_risk_knowledge.py from the
transcription in bcjaeger/PooledCohort). Risk = exp(lp) / (1 + exp(lp)) with the supplement's
centred predictors: age (per 10 y from 55), non-HDL-C (mmol/L from 3.5), HDL-C (per 0.3 mmol/L
from 1.3), SBP split at 110 mm Hg (per 20), BMI split at 30 (per 5, heart failure only), eGFR
split at 60 (per −15), treatment interactions and age interactions.

The model is chosen by the optional inputs present: none → base; exactly one of UACR, HbA1c,
SDI decile → that model; two or more → the full model, with its missing-value indicators for the
absent ones. The model used is reported. Valid for ages 30–79.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any, ClassVar

import numpy as np

from pmed.findings import Code, Evidence
from pmed.knowledge import load
from pmed.risk import input_catalog as ic
from pmed.risk.calculator import PMED_RISK_SYSTEM, Calculator, Evaluation, logistic
from pmed.risk.linear import band_and_severity, predictor, predictor_columns, terms

__all__ = ["ENDPOINTS", "Prevent", "choose_model"]

ENDPOINTS = ("cvd", "ascvd", "hf", "chd", "stroke")
MODELS = ("base", "acr", "hba1c", "sdi", "full")
SEXES = ("female", "male")
MG_DL_TO_MMOL_L = 0.02586  # cholesterol, as in the supplement
_OPTIONAL = (("uacr", "acr"), ("hba1c", "hba1c"), ("sdi_decile", "sdi"))


def choose_model(present: Mapping[str, bool]) -> str:
    """Which PREVENT model the optional inputs present call for (see module docstring)."""
    given = [model for name, model in _OPTIONAL if present.get(name)]
    if not given:
        return "base"
    return given[0] if len(given) == 1 else "full"


def features(
    age: Any,
    tc: Any,
    hdl: Any,
    sbp: Any,
    bp_treated: Any,
    statin: Any,
    diabetes: Any,
    smoker: Any,
    bmi: Any,
    egfr: Any,
    uacr: Any,
    hba1c: Any,
    sdi: Any,
) -> dict[str, Any]:
    """The Table S12 predictors, for a float patient or numpy columns.

    `uacr`, `hba1c` and `sdi` may be NaN (missing): their terms are then 0 and the matching
    missing indicator 1.
    """
    a = (age - 55.0) / 10.0
    non_hdl = (tc - hdl) * MG_DL_TO_MMOL_L - 3.5
    hdl_t = (hdl * MG_DL_TO_MMOL_L - 1.3) / 0.3
    sbp_lt = (np.minimum(sbp, 110.0) - 110.0) / 20.0
    sbp_ge = (np.maximum(sbp, 110.0) - 130.0) / 20.0
    bmi_ge = (np.maximum(bmi, 30.0) - 30.0) / 5.0
    egfr_lt = (np.minimum(egfr, 60.0) - 60.0) / -15.0
    has_acr, has_a1c, has_sdi = ~np.isnan(uacr), ~np.isnan(hba1c), ~np.isnan(sdi)
    with np.errstate(invalid="ignore", divide="ignore"):
        ln_acr = np.where(has_acr, np.log(np.where(has_acr, uacr, 1.0)), 0.0)
    a1c = np.where(has_a1c, hba1c - 5.3, 0.0)
    sdi_v = np.where(has_sdi, sdi, 0.0)
    return {
        "age_per_10_years": a,
        "age_per_10_years_squared": a * a,
        "non_hdl_c_per_1_mmol_l": non_hdl,
        "hdl_c_per_0.3_mmol_l": hdl_t,
        "sbp_lt110_per_20_mmhg": sbp_lt,
        "sbp_gteq110_per_20_mmhg": sbp_ge,
        "diabetes": diabetes,
        "current_smoking": smoker,
        "bmi_lt30_per_5_kg_m2": (np.minimum(bmi, 30.0) - 25.0) / 5.0,
        "bmi_gt30_per_5_kg_m2": bmi_ge,
        "egfr_lt60_per_15_ml": egfr_lt,
        "egfr_gteq60_per_15_ml": (np.maximum(egfr, 60.0) - 90.0) / -15.0,
        "anti_hypertensive_use": bp_treated,
        "statin_use": statin,
        "treated_sbp_gteq110_mm_hg_per_20_mm_hg": bp_treated * sbp_ge,
        "treated_non_hdl_c": statin * non_hdl,
        "age_per_10yr_x_non_hdl_c_per_1_mmol_l": a * non_hdl,
        "age_per_10yr_x_hdl_c_per_0.3_mml_l": a * hdl_t,
        "age_per_10yr_x_sbp_gteq110_mm_hg_per_20_mmhg": a * sbp_ge,
        "age_per_10yr_x_diabetes": a * diabetes,
        "age_per_10yr_x_current_smoking": a * smoker,
        "age_per_10yr_x_bmi_gteq30_per_5_kg_m2": a * bmi_ge,
        "age_per_10yr_x_egfr_lt60_per_15_ml": a * egfr_lt,
        "sdi_decile_between_4_and_6": ((sdi_v >= 4) & (sdi_v < 7)).astype(float),
        "sdi_decile_between_7_and_10": (sdi_v >= 7).astype(float),
        "miss_sdi": (~has_sdi).astype(float),
        "ln_acr": ln_acr,
        "miss_ln_acr": (~has_acr).astype(float),
        "hba1c_minus_5.3_x_diabetes": a1c * diabetes,
        "hba1c_minus_5.3_x_1_minus_diabetes": a1c * (1 - diabetes),
        "miss_hba1c": (~has_a1c).astype(float),
    }


def _scalar_features(x: Mapping[str, Any]) -> dict[str, float]:
    nan = float("nan")
    raw = features(
        x["age"],
        x["tc"],
        x["hdl"],
        x["sbp"],
        float(x["bp_treated"]),
        float(x["statin"]),
        float(x["diabetes"]),
        float(x["smoker"]),
        x["bmi"],
        x["egfr"],
        x.get("uacr", nan),
        x.get("hba1c", nan),
        x.get("sdi_decile", nan),
    )
    return {k: float(v) for k, v in raw.items()}


class Prevent(Calculator):
    """AHA PREVENT (Khan 2024, Table S12)."""

    name = "prevent"
    title = "Cardiovascular risk (AHA PREVENT equations, 2023)"
    unit = "%"
    code = Code(system=PMED_RISK_SYSTEM, code="prevent", display=title)
    inputs = (
        replace(ic.AGE, applies=(30, 79)),
        ic.SEX,
        ic.TC,
        ic.HDL,
        replace(ic.SBP, high=180),
        ic.BP_TREATED,
        ic.STATIN,
        ic.DIABETES,
        ic.SMOKER,
        replace(ic.BMI, low=18.5, high=39.9),
        replace(ic.EGFR, low=15, high=140),
        ic.UACR,
        replace(ic.HBA1C, low=4.5, high=15),
        ic.SDI_DECILE,
    )
    evidence = (
        Evidence(
            title="Khan SS et al. Development and validation of the American Heart Association's "
            "PREVENT equations. Circulation 2024;149:430-449, Supplemental Table S12",
            url="https://doi.org/10.1161/CIRCULATIONAHA.123.067626",
        ),
    )
    knowledge = ("risk/prevent", "risk/risk_categories")
    risk_factors = ("tc", "hdl", "sbp", "bp_treated", "smoker", "diabetes", "bmi", "egfr")
    cardiovascular = True
    option_values: ClassVar[dict[str, tuple[Any, ...]]] = {
        "horizon": (10, 30),
        "endpoint": ENDPOINTS,
    }

    def evaluate(self, x: Mapping[str, Any], **options: Any) -> Evaluation:
        horizon = int(options.get("horizon", 10))
        headline = options.get("endpoint", "cvd")
        not_applicable = self.not_applicable_for(x)
        if not_applicable is not None:
            return not_applicable
        model = choose_model({name: name in x for name, _ in _OPTIONAL})
        table = load("risk/prevent").data["models"][model][str(horizon)][x["sex"]]
        feats = _scalar_features(x)
        endpoints: dict[str, float] = {}
        headline_terms = []
        for endpoint in ENDPOINTS:
            coefs = table[endpoint]
            contributions = terms(feats, coefs, unit="log-odds")
            endpoints[endpoint] = 100.0 * float(logistic(predictor(contributions, coefs["const"])))
            if endpoint == headline:
                headline_terms = contributions
        risk = endpoints[headline]
        band, severity = None, None
        if horizon == 10:
            band, severity = band_and_severity(
                load("risk/risk_categories").data["ascvd_10y"]["bands"], risk
            )
        names = {
            "cvd": "total CVD",
            "ascvd": "ASCVD",
            "hf": "heart failure",
            "chd": "CHD",
            "stroke": "stroke",
        }
        label = "base" if model == "base" else f"{model} model"
        summary = (
            f"{horizon}-year {names[headline]} risk {risk:.1f}%"
            + (f" ({band})" if band else "")
            + f", PREVENT {label}; "
            + ", ".join(f"{names[e]} {v:.1f}%" for e, v in endpoints.items() if e != headline)
        )
        evaluation = Evaluation(
            value=risk,
            terms=headline_terms,
            summary=summary,
            band=band,
            details={
                "model": model,
                "horizon": horizon,
                "endpoint": headline,
                "endpoints": {k: round(v, 4) for k, v in endpoints.items()},
            },
        )
        if severity is not None:
            evaluation.severity = severity
        return evaluation

    def evaluate_columns(self, cols: Mapping[str, np.ndarray], **options: Any) -> np.ndarray:
        horizon = str(int(options.get("horizon", 10)))
        endpoint = options.get("endpoint", "cvd")
        n = cols["age"].shape[0]
        nan = np.full(n, np.nan)
        uacr, hba1c, sdi = (cols.get(k, nan) for k in ("uacr", "hba1c", "sdi_decile"))
        present = [~np.isnan(uacr), ~np.isnan(hba1c), ~np.isnan(sdi)]
        count = present[0].astype(np.int64) + present[1] + present[2]
        single = np.select(present, [1, 2, 3], default=0)  # acr, hba1c, sdi
        model_idx = np.where(count >= 2, 4, np.where(count == 1, single, 0))
        group = model_idx * 2 + (cols["sex"] == "male")
        models = load("risk/prevent").data["models"]
        rows = [models[m][horizon][s][endpoint] for m in MODELS for s in SEXES]
        feats = features(
            cols["age"],
            cols["tc"],
            cols["hdl"],
            cols["sbp"],
            cols["bp_treated"],
            cols["statin"],
            cols["diabetes"],
            cols["smoker"],
            cols["bmi"],
            cols["egfr"],
            uacr,
            hba1c,
            sdi,
        )
        lp = predictor_columns(feats, rows, group.astype(np.int64), constant="const")
        low, high = self.spec("age").applies or (30, 79)
        age = cols["age"]
        return np.where((age >= low) & (age <= high), 100.0 * logistic(lp), np.nan)
