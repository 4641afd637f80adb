"""Build the risk and dosing knowledge files under `src/pmed/knowledge/data/{risk,dosing}/`.

Run from the repository root: `python tools/build_risk_knowledge.py`.

* `risk/prevent` is converted from `../shared/data/risk/prevent_coefficients.tsv`: the AHA PREVENT
  coefficients (Khan et al., Circulation 2024;149:430-449, Supplemental Table S12) as transcribed
  in bcjaeger/PooledCohort (MIT).
* The other files are the published coefficient and point tables, typed in here once from the
  paper named in each file's provenance (table numbers given), so that the engines read numbers
  from cited data and never from literals scattered in code.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from knowledge_io import SHARED, write_knowledge

GENERATED_BY = "tools/build_risk_knowledge.py"
PREVENT_TSV = SHARED / "data" / "risk" / "prevent_coefficients.tsv"

_SEXES = {"women": "female", "men": "male"}


def parse_prevent(path: Path) -> dict[str, Any]:
    """`## <model>_<horizon>` sections of `variable<TAB>women_cvd…` rows → a nested dict."""
    models: dict[str, Any] = {}
    terms: list[str] = []
    section: tuple[str, str] | None = None
    header: list[str] = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in raw.split("\t")]
        if not cells[0]:
            continue
        if cells[0].startswith("## "):
            model, horizon = cells[0][3:].rsplit("_", 1)
            section = (model, horizon)
            continue
        if cells[0] == "variable":
            header = cells[1:]
            continue
        if section is None:
            raise SystemExit(f"{path}: coefficient row before any '## model_horizon' header")
        name = cells[0].removeprefix("coef_")
        if name != "const" and name not in terms:
            terms.append(name)
        model, horizon = section
        for column, text in zip(header, cells[1:], strict=False):
            if not column or not text:
                continue
            sex_word, endpoint = column.split("_", 1)
            sex = _SEXES[sex_word]
            slot = models.setdefault(model, {}).setdefault(horizon, {}).setdefault(sex, {})
            slot.setdefault(endpoint, {})[name] = float(text)
    for model, horizons in models.items():
        for horizon, sexes in horizons.items():
            for sex, endpoints in sexes.items():
                for endpoint, coefs in endpoints.items():
                    missing = [t for t in [*terms, "const"] if t not in coefs]
                    if missing:
                        raise SystemExit(
                            f"PREVENT {model}/{horizon}/{sex}/{endpoint} lacks {missing}"
                        )
    return {"terms": terms, "models": models}


# ACC/AHA 2013 Pooled Cohort Equations: Goff DC Jr et al., 2013 ACC/AHA Guideline on the Assessment
# of Cardiovascular Risk, Circulation 2014;129(25 Suppl 2):S49-S73, Appendix 7 / Table A
# ("Equation parameters of the Pooled Cohort Equations for estimation of 10-year risk of hard
# ASCVD"), coefficients as printed (3 decimals), "Mean (Coefficient x Value)" and baseline survival.
PCE_TABLE_A: dict[str, Any] = {
    "white_female": {
        "ln_age": -29.799,
        "ln_age_squared": 4.884,
        "ln_tc": 13.540,
        "ln_age_x_ln_tc": -3.114,
        "ln_hdl": -13.578,
        "ln_age_x_ln_hdl": 3.149,
        "ln_treated_sbp": 2.019,
        "ln_age_x_ln_treated_sbp": 0.0,
        "ln_untreated_sbp": 1.957,
        "ln_age_x_ln_untreated_sbp": 0.0,
        "smoker": 7.574,
        "ln_age_x_smoker": -1.665,
        "diabetes": 0.661,
        "mean": -29.18,
        "baseline_survival": 0.9665,
    },
    "black_female": {
        "ln_age": 17.114,
        "ln_age_squared": 0.0,
        "ln_tc": 0.940,
        "ln_age_x_ln_tc": 0.0,
        "ln_hdl": -18.920,
        "ln_age_x_ln_hdl": 4.475,
        "ln_treated_sbp": 29.291,
        "ln_age_x_ln_treated_sbp": -6.432,
        "ln_untreated_sbp": 27.820,
        "ln_age_x_ln_untreated_sbp": -6.087,
        "smoker": 0.691,
        "ln_age_x_smoker": 0.0,
        "diabetes": 0.874,
        "mean": 86.61,
        "baseline_survival": 0.9533,
    },
    "white_male": {
        "ln_age": 12.344,
        "ln_age_squared": 0.0,
        "ln_tc": 11.853,
        "ln_age_x_ln_tc": -2.664,
        "ln_hdl": -7.990,
        "ln_age_x_ln_hdl": 1.769,
        "ln_treated_sbp": 1.797,
        "ln_age_x_ln_treated_sbp": 0.0,
        "ln_untreated_sbp": 1.764,
        "ln_age_x_ln_untreated_sbp": 0.0,
        "smoker": 7.837,
        "ln_age_x_smoker": -1.795,
        "diabetes": 0.658,
        "mean": 61.18,
        "baseline_survival": 0.9144,
    },
    "black_male": {
        "ln_age": 2.469,
        "ln_age_squared": 0.0,
        "ln_tc": 0.302,
        "ln_age_x_ln_tc": 0.0,
        "ln_hdl": -0.307,
        "ln_age_x_ln_hdl": 0.0,
        "ln_treated_sbp": 1.916,
        "ln_age_x_ln_treated_sbp": 0.0,
        "ln_untreated_sbp": 1.809,
        "ln_age_x_ln_untreated_sbp": 0.0,
        "smoker": 0.549,
        "ln_age_x_smoker": 0.0,
        "diabetes": 0.645,
        "mean": 19.54,
        "baseline_survival": 0.8954,
    },
}

# Revised Pooled Cohort Equations: Yadlowsky S et al., Clinical implications of revised pooled
# cohort equations for estimating atherosclerotic cardiovascular disease risk, Ann Intern Med
# 2018;169:20-29 (supplement: logistic model coefficients by sex), as transcribed in
# bcjaeger/PooledCohort (MIT). Linear predictor -> risk = 1 / (1 + exp(-lp)).
PCE_REVISED: dict[str, Any] = {
    "female": {
        "intercept": -12.823110,
        "age": 0.106501,
        "black": 0.432440,
        "sbp_squared": 0.000056,
        "sbp": 0.017666,
        "bp_treated": 0.731678,
        "diabetes": 0.943970,
        "smoker": 1.009790,
        "tc_hdl_ratio": 0.151318,
        "age_x_black": -0.008580,
        "sbp_x_bp_treated": -0.003647,
        "sbp_x_black": 0.006208,
        "bp_treated_x_black": 0.152968,
        "age_x_sbp": -0.000153,
        "black_x_diabetes": 0.115232,
        "black_x_smoker": -0.092231,
        "black_x_tc_hdl_ratio": 0.070498,
        "black_x_sbp_x_bp_treated": -0.000173,
        "black_x_sbp_x_age": -0.000094,
    },
    "male": {
        "intercept": -11.679980,
        "age": 0.064200,
        "black": 0.482835,
        "sbp_squared": -0.000061,
        "sbp": 0.038950,
        "bp_treated": 2.055533,
        "diabetes": 0.842209,
        "smoker": 0.895589,
        "tc_hdl_ratio": 0.193307,
        "age_x_black": 0.0,
        "sbp_x_bp_treated": -0.014207,
        "sbp_x_black": 0.011609,
        "bp_treated_x_black": -0.119460,
        "age_x_sbp": 0.000025,
        "black_x_diabetes": -0.077214,
        "black_x_smoker": -0.226771,
        "black_x_tc_hdl_ratio": -0.117749,
        "black_x_sbp_x_bp_treated": 0.004190,
        "black_x_sbp_x_age": -0.000199,
    },
}

# Framingham general cardiovascular risk: D'Agostino RB Sr et al., General cardiovascular risk
# profile for use in primary care, Circulation 2008;117:743-753, Table 2 (regression coefficients,
# baseline survival S0(10) and the mean of the linear predictor).
FRAMINGHAM_2008: dict[str, Any] = {
    "female": {
        "ln_age": 2.32888,
        "ln_tc": 1.20904,
        "ln_hdl": -0.70833,
        "ln_untreated_sbp": 2.76157,
        "ln_treated_sbp": 2.82263,
        "smoker": 0.52873,
        "diabetes": 0.69154,
        "mean": 26.1931,
        "baseline_survival": 0.95012,
    },
    "male": {
        "ln_age": 3.06117,
        "ln_tc": 1.12370,
        "ln_hdl": -0.93263,
        "ln_untreated_sbp": 1.93303,
        "ln_treated_sbp": 1.99881,
        "smoker": 0.65451,
        "diabetes": 0.57367,
        "mean": 23.9802,
        "baseline_survival": 0.88936,
    },
}

# CKD-EPI 2021 race-free creatinine equation: Inker LA et al., New creatinine- and cystatin C-based
# equations to estimate GFR without race, N Engl J Med 2021;385:1737-1749, Table 2.
# eGFR = 142 x min(Scr/k, 1)^a x max(Scr/k, 1)^-1.200 x 0.9938^age x 1.012 [if female].
# KDIGO 2012 CKD guideline (Kidney Int Suppl 2013;3:1-150), Table 5: GFR categories G1-G5.
CKD_EPI_2021: dict[str, Any] = {
    "constant": 142.0,
    "kappa": {"female": 0.7, "male": 0.9},
    "alpha": {"female": -0.241, "male": -0.302},
    "exponent_above": -1.200,
    "age_base": 0.9938,
    "female_factor": 1.012,
    "kdigo_g_stages": [
        {"stage": "G1", "from": 90, "label": "normal or high", "severity": "info"},
        {"stage": "G2", "from": 60, "label": "mildly decreased", "severity": "low"},
        {
            "stage": "G3a",
            "from": 45,
            "label": "mildly to moderately decreased",
            "severity": "moderate",
        },
        {
            "stage": "G3b",
            "from": 30,
            "label": "moderately to severely decreased",
            "severity": "moderate",
        },
        {"stage": "G4", "from": 15, "label": "severely decreased", "severity": "high"},
        {"stage": "G5", "from": 0, "label": "kidney failure", "severity": "critical"},
    ],
}

# Banded items: `bands` are tried in order; the last whose `op` ("ge" or "gt") `bound` holds gives
# the points; the first band has no bound.

# FINDRISC: Lindström J, Tuomilehto J, The diabetes risk score, Diabetes Care 2003;26:725-731,
# Table 2 (full score) and the FINDRISC form's bands of 10-year type 2 diabetes risk.
FINDRISC: dict[str, Any] = {
    "age": [
        {"points": 0},
        {"op": "ge", "bound": 45, "points": 2},
        {"op": "ge", "bound": 55, "points": 3},
        {"op": "ge", "bound": 65, "points": 4},
    ],
    "bmi": [
        {"points": 0},
        {"op": "ge", "bound": 25, "points": 1},
        {"op": "gt", "bound": 30, "points": 3},
    ],
    "waist_cm": {
        "male": [
            {"points": 0},
            {"op": "ge", "bound": 94, "points": 3},
            {"op": "gt", "bound": 102, "points": 4},
        ],
        "female": [
            {"points": 0},
            {"op": "ge", "bound": 80, "points": 3},
            {"op": "gt", "bound": 88, "points": 4},
        ],
    },
    "no_physical_activity": 2,
    "not_daily_fruit_vegetables": 1,
    "antihypertensive_medication": 2,
    "high_glucose_history": 5,
    "family_history_diabetes": {"none": 0, "second_degree": 3, "first_degree": 5},
    "risk_bands": [
        {"from": 0, "band": "low", "ten_year_risk": "about 1 in 100", "severity": "low"},
        {
            "from": 7,
            "band": "slightly elevated",
            "ten_year_risk": "about 1 in 25",
            "severity": "low",
        },
        {"from": 12, "band": "moderate", "ten_year_risk": "about 1 in 6", "severity": "moderate"},
        {"from": 15, "band": "high", "ten_year_risk": "about 1 in 3", "severity": "high"},
        {"from": 21, "band": "very high", "ten_year_risk": "about 1 in 2", "severity": "high"},
    ],
}

# CHA2DS2-VASc: Lip GYH et al., Refining clinical risk stratification for predicting stroke and
# thromboembolism in atrial fibrillation, Chest 2010;137:263-272 (Table 1 points); adjusted stroke
# rate per score from the 2010 ESC AF guideline (Camm AJ et al., Eur Heart J 2010;31:2369-2429,
# Table 8b). Bands after the 2019 AHA/ACC/HRS AF focused update (January CT et al., Circulation
# 2019;140:e125-e151): low 0 (men) / 1 (women); anticoagulation recommended at >=2 / >=3.
CHA2DS2_VASC: dict[str, Any] = {
    "items": {
        "chf": 1,
        "hypertension": 1,
        "diabetes": 1,
        "stroke_tia": 2,
        "vascular_disease": 1,
        "female": 1,
    },
    "age": [
        {"points": 0},
        {"op": "ge", "bound": 65, "points": 1},
        {"op": "ge", "bound": 75, "points": 2},
    ],
    "stroke_rate_percent_per_year": [0.0, 1.3, 2.2, 3.2, 4.0, 6.7, 9.8, 9.6, 6.7, 15.2],
    "bands_by_sex_adjusted_score": [
        {"from": 0, "band": "low", "severity": "low"},
        {"from": 1, "band": "moderate (anticoagulation may be considered)", "severity": "moderate"},
        {"from": 2, "band": "high (anticoagulation recommended)", "severity": "high"},
    ],
}

# HAS-BLED: Pisters R et al., A novel user-friendly score (HAS-BLED) to assess 1-year risk of major
# bleeding in patients with atrial fibrillation, Chest 2010;138:1093-1100, Table 2 (items) and
# Table 3 (bleeds per 100 patient-years by score, validation cohort); >=3 = high risk.
HAS_BLED: dict[str, Any] = {
    "items": {
        "uncontrolled_hypertension": 1,
        "abnormal_renal_function": 1,
        "abnormal_liver_function": 1,
        "stroke": 1,
        "bleeding_history": 1,
        "labile_inr": 1,
        "antiplatelet_or_nsaid": 1,
        "alcohol": 1,
    },
    "elderly_age_over": 65,
    "bleeds_per_100_patient_years": {
        "0": 1.13,
        "1": 1.02,
        "2": 1.88,
        "3": 3.74,
        "4": 8.70,
        "5": 12.50,
    },
    "bands": [
        {"from": 0, "band": "low", "severity": "low"},
        {"from": 1, "band": "moderate", "severity": "moderate"},
        {"from": 3, "band": "high", "severity": "high"},
    ],
}

# NEWS2: Royal College of Physicians, National Early Warning Score (NEWS) 2, London 2017,
# Chart 1 (scoring system) and Table 1/Chart 2 (clinical risk and response thresholds).
NEWS2: dict[str, Any] = {
    "rr": [
        {"points": 3},
        {"op": "gt", "bound": 8, "points": 1},
        {"op": "gt", "bound": 11, "points": 0},
        {"op": "gt", "bound": 20, "points": 2},
        {"op": "gt", "bound": 24, "points": 3},
    ],
    "spo2_scale1": [
        {"points": 3},
        {"op": "gt", "bound": 91, "points": 2},
        {"op": "gt", "bound": 93, "points": 1},
        {"op": "gt", "bound": 95, "points": 0},
    ],
    "spo2_scale2_air": [
        {"points": 3},
        {"op": "gt", "bound": 83, "points": 2},
        {"op": "gt", "bound": 85, "points": 1},
        {"op": "gt", "bound": 87, "points": 0},
    ],
    "spo2_scale2_oxygen": [
        {"points": 3},
        {"op": "gt", "bound": 83, "points": 2},
        {"op": "gt", "bound": 85, "points": 1},
        {"op": "gt", "bound": 87, "points": 0},
        {"op": "gt", "bound": 92, "points": 1},
        {"op": "gt", "bound": 94, "points": 2},
        {"op": "gt", "bound": 96, "points": 3},
    ],
    "on_oxygen": 2,
    "sbp": [
        {"points": 3},
        {"op": "gt", "bound": 90, "points": 2},
        {"op": "gt", "bound": 100, "points": 1},
        {"op": "gt", "bound": 110, "points": 0},
        {"op": "gt", "bound": 219, "points": 3},
    ],
    "hr": [
        {"points": 3},
        {"op": "gt", "bound": 40, "points": 1},
        {"op": "gt", "bound": 50, "points": 0},
        {"op": "gt", "bound": 90, "points": 1},
        {"op": "gt", "bound": 110, "points": 2},
        {"op": "gt", "bound": 130, "points": 3},
    ],
    "consciousness": {"alert": 0, "confusion": 3, "voice": 3, "pain": 3, "unresponsive": 3},
    "temp": [
        {"points": 3},
        {"op": "gt", "bound": 35.0, "points": 1},
        {"op": "gt", "bound": 36.0, "points": 0},
        {"op": "gt", "bound": 38.0, "points": 1},
        {"op": "gt", "bound": 39.0, "points": 2},
    ],
    "responses": [
        {
            "from": 0,
            "band": "low",
            "response": "routine monitoring (minimum 12-hourly)",
            "severity": "low",
        },
        {
            "from": 1,
            "band": "low",
            "response": "ward-based response (minimum 4-6-hourly)",
            "severity": "low",
        },
        {
            "from": 5,
            "band": "medium",
            "response": "urgent ward-based response; key threshold for urgent review",
            "severity": "moderate",
        },
        {
            "from": 7,
            "band": "high",
            "response": "emergency response; continuous monitoring, critical-care team",
            "severity": "critical",
        },
    ],
    "single_parameter_3": {
        "band": "low-medium",
        "response": "urgent ward-based response (minimum hourly)",
        "severity": "moderate",
    },
}

# qSOFA: Seymour CW et al., Assessment of clinical criteria for sepsis, JAMA 2016;315:762-774
# (Singer M et al., Sepsis-3, JAMA 2016;315:801-810, Box 4): RR >= 22/min, altered mentation,
# SBP <= 100 mm Hg; >= 2 points identifies patients at higher risk of poor outcome.
QSOFA: dict[str, Any] = {
    "rr_at_least": 22,
    "sbp_at_most": 100,
    "positive_from": 2,
}

# IWPC warfarin dosing: International Warfarin Pharmacogenetics Consortium, Estimation of the
# warfarin dose with clinical and pharmacogenetic data, N Engl J Med 2009;360:753-764,
# Supplementary Appendix S1e (pharmacogenetic and clinical algorithms; output = square root of
# the weekly dose in mg; age in decades = 1 for 10-19 years, 2 for 20-29, ... 9 for >= 90).
IWPC: dict[str, Any] = {
    "pharmacogenetic": {
        "intercept": 5.6044,
        "age_decades": -0.2614,
        "height_cm": 0.0087,
        "weight_kg": 0.0128,
        "vkorc1": {"G/G": 0.0, "A/G": -0.8677, "A/A": -1.6974, "unknown": -0.4854},
        "cyp2c9": {
            "*1/*1": 0.0,
            "*1/*2": -0.5211,
            "*1/*3": -0.9357,
            "*2/*2": -1.0616,
            "*2/*3": -1.9206,
            "*3/*3": -2.3312,
            "unknown": -0.2188,
        },
        "race": {"white": 0.0, "asian": -0.1092, "black": -0.2760, "other": -0.1032},
        "enzyme_inducer": 1.1816,
        "amiodarone": -0.5503,
    },
    "clinical": {
        "intercept": 4.0376,
        "age_decades": -0.2546,
        "height_cm": 0.0118,
        "weight_kg": 0.0134,
        "race": {"white": 0.0, "asian": -0.6752, "black": 0.4060, "other": 0.0443},
        "enzyme_inducer": 1.2799,
        "amiodarone": -0.5695,
    },
}

# Treatment effects used by what-if for changes the equations do not contain (estimates).
TREATMENT_EFFECTS: dict[str, Any] = {
    "statin_ldl_reduction": {
        "citation": "Grundy SM et al., 2018 AHA/ACC Guideline on the Management of Blood "
        "Cholesterol, Circulation 2019;139:e1082-e1143, Table 3 (statin intensity: high >=50%, "
        "moderate 30-49%, low <30% LDL-C lowering)",
        "fraction_by_intensity": {"high": 0.50, "moderate": 0.30, "low": 0.20},
    },
    "ldl_rrr_per_mmol": {
        "citation": "Cholesterol Treatment Trialists' Collaboration, Lancet 2010;376:1670-1681: "
        "major vascular events fall 22% per 1.0 mmol/L LDL-C reduction (RR 0.78)",
        "rate_ratio": 0.78,
        "mg_dl_per_mmol": 38.67,
    },
    "sbp_rrr_per_10_mmhg": {
        "citation": "Ettehad D et al., Blood pressure lowering for prevention of cardiovascular "
        "disease and death, Lancet 2016;387:957-967: major CVD events RR 0.80 per 10 mm Hg SBP",
        "rate_ratio": 0.80,
    },
    "reference_profile": {
        "citation": "Goff DC Jr et al., 2013 ACC/AHA cardiovascular risk guideline "
        "(Circulation 2014;129:S49-S73): 'optimal risk factors' (TC 170 mg/dL, HDL-C 50 mg/dL, "
        "SBP 110 mm Hg untreated, non-smoker, no diabetes); BMI 25, eGFR 90, no statin",
        "values": {
            "tc": 170.0,
            "hdl": 50.0,
            "sbp": 110.0,
            "bp_treated": False,
            "smoker": False,
            "diabetes": False,
            "bmi": 25.0,
            "egfr": 90.0,
            "statin": False,
        },
    },
}


# Risk categories used for a result's band and severity.
RISK_CATEGORIES: dict[str, Any] = {
    "ascvd_10y": {
        "citation": "Arnett DK et al., 2019 ACC/AHA Guideline on the Primary Prevention of "
        "Cardiovascular Disease, Circulation 2019;140:e596-e646 (10-year ASCVD risk: low <5%, "
        "borderline 5-<7.5%, intermediate 7.5-<20%, high >=20%); applied to PREVENT 10-year "
        "risks as in Khan SS et al., Circulation 2024",
        "bands": [
            {"from": 0, "band": "low", "severity": "low"},
            {"from": 5, "band": "borderline", "severity": "moderate"},
            {"from": 7.5, "band": "intermediate", "severity": "moderate"},
            {"from": 20, "band": "high", "severity": "high"},
        ],
    },
    "framingham_10y": {
        "citation": "D'Agostino RB Sr et al., Circulation 2008;117:743-753 and NCEP ATP III "
        "(Circulation 2002;106:3143-3421): 10-year risk <10% low, 10-20% intermediate, "
        ">20% high",
        "bands": [
            {"from": 0, "band": "low", "severity": "low"},
            {"from": 10, "band": "intermediate", "severity": "moderate"},
            {"from": 20, "band": "high", "severity": "high"},
        ],
    },
}


def _write(name: str, data: Any, source: str, version: str, licence: str) -> None:
    path = write_knowledge(
        name, data, source=source, version=version, licence=licence, generated_by=GENERATED_BY
    )
    print(f"wrote {path}")


def main() -> None:
    _write(
        "risk/prevent",
        parse_prevent(PREVENT_TSV),
        "Khan SS et al., Circulation 2024;149:430-449, Supplemental Table S12 "
        "(transcribed in bcjaeger/PooledCohort)",
        "2024",
        "MIT (bcjaeger/PooledCohort transcription)",
    )
    _write(
        "risk/pce",
        PCE_TABLE_A,
        "Goff DC Jr et al., Circulation 2014;129:S49-S73, Table A",
        "2013",
        "published equation parameters (facts)",
    )
    _write(
        "risk/pce_revised",
        PCE_REVISED,
        "Yadlowsky S et al., Ann Intern Med 2018;169:20-29, supplement "
        "(transcribed in bcjaeger/PooledCohort)",
        "2018",
        "MIT (bcjaeger/PooledCohort)",
    )
    _write(
        "risk/framingham_cvd",
        FRAMINGHAM_2008,
        "D'Agostino RB Sr et al., Circulation 2008;117:743-753, Table 2",
        "2008",
        "published equation parameters (facts)",
    )
    _write(
        "risk/ckd_epi_2021",
        CKD_EPI_2021,
        "Inker LA et al., N Engl J Med 2021;385:1737-1749, Table 2; KDIGO 2012 Table 5",
        "2021",
        "published equation parameters (facts)",
    )
    _write(
        "risk/findrisc",
        FINDRISC,
        "Lindström J, Tuomilehto J, Diabetes Care 2003;26:725-731",
        "2003",
        "published score (facts)",
    )
    _write(
        "risk/cha2ds2_vasc",
        CHA2DS2_VASC,
        "Lip GYH et al., Chest 2010;137:263-272; ESC 2010 AF guideline Table 8b",
        "2010",
        "published score (facts)",
    )
    _write(
        "risk/has_bled",
        HAS_BLED,
        "Pisters R et al., Chest 2010;138:1093-1100, Tables 2-3",
        "2010",
        "published score (facts)",
    )
    _write(
        "risk/news2",
        NEWS2,
        "Royal College of Physicians, NEWS2, 2017, Chart 1 and Table 1",
        "2017",
        "published score (facts)",
    )
    _write(
        "risk/qsofa",
        QSOFA,
        "Seymour CW et al., JAMA 2016;315:762-774",
        "2016",
        "published score (facts)",
    )
    _write(
        "risk/risk_categories",
        RISK_CATEGORIES,
        "2019 ACC/AHA primary prevention guideline; NCEP ATP III",
        "2019",
        "published thresholds (facts)",
    )
    _write(
        "dosing/warfarin_iwpc",
        IWPC,
        "IWPC, N Engl J Med 2009;360:753-764, Supplementary Appendix",
        "2009",
        "published equation parameters (facts)",
    )
    _write(
        "risk/treatment_effects",
        TREATMENT_EFFECTS,
        "CTT Lancet 2010; Ettehad Lancet 2016; 2018 AHA/ACC cholesterol guideline Table 3",
        "2024",
        "published effect sizes (facts)",
    )


if __name__ == "__main__":
    main()
