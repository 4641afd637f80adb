"""Synthetic risk factors at the index date, correlated as in real adult populations.

Vectorised over the cohort. Directions and rough magnitudes follow NHANES-era US data: BMI is
higher in Black women and lower in Asian adults; systolic pressure rises ~0.45 mmHg/year of age
and ~0.6 mmHg per kg/m2 and is higher in Black adults; total cholesterol rises with age (more in
women after 50) and BMI; HDL is lower in men, with obesity and diabetes; diabetes prevalence rises
with age and BMI and is higher in Black, Hispanic and Asian adults; HbA1c tracks BMI and age in
people without diabetes; treatment (antihypertensives, statins, metformin) is given more often
the higher the risk factors and lowers the measured values. Every value is rounded as it is
written to the record, so the features the outcome model sees are exactly the record's.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["ckd_epi_2021", "sample_clinical"]


def _logistic(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def ckd_epi_2021(creatinine_mg_dl: np.ndarray, age: np.ndarray, female: np.ndarray) -> np.ndarray:
    """eGFR (mL/min/1.73 m2) by the race-free CKD-EPI 2021 creatinine equation (Inker, NEJM 2021):
    142 × min(Scr/κ, 1)^α × max(Scr/κ, 1)^−1.200 × 0.9938^age × 1.012 [female],
    κ = 0.7 (F) / 0.9 (M), α = −0.241 (F) / −0.302 (M)."""
    f = female.astype(bool)
    kappa = np.where(f, 0.7, 0.9)
    alpha = np.where(f, -0.241, -0.302)
    ratio = creatinine_mg_dl / kappa
    egfr = (
        142.0
        * np.minimum(ratio, 1.0) ** alpha
        * np.maximum(ratio, 1.0) ** -1.200
        * 0.9938**age
        * np.where(f, 1.012, 1.0)
    )
    return np.asarray(egfr)


def sample_clinical(rng: np.random.Generator, demo: dict[str, Any]) -> dict[str, np.ndarray]:
    """Risk factors for the patients in `demo` (see module docstring). All arrays length n.

    Keys: smoking (never/former/current), current_smoker, height_cm, weight_kg, bmi, diabetes,
    hba1c, hypertension, bp_treated, sbp, dbp, statin, tc, hdl, ldl, tg, creatinine, egfr, uacr,
    ckd, af, anticoagulant, prior_ascvd, metformin, prediabetes.
    """
    age = demo["age"].astype(float)
    n = age.shape[0]
    female = demo["female"].astype(float)
    male = 1.0 - female
    group = demo["group"]
    black = (group == "black").astype(float)
    hisp = (group == "hispanic").astype(float)
    asian = (group == "asian").astype(float)
    a55 = age - 55.0
    z = lambda: rng.standard_normal(n)  # noqa: E731

    # smoking
    p_current = _logistic(
        -1.7 + 0.35 * male - 0.03 * (age - 45) - 0.9 * asian * female - 0.3 * hisp
    )
    u = rng.random(n)
    p_former = (1 - p_current) * np.clip(0.12 + 0.006 * (age - 30), 0, 0.6)
    smoking = np.where(
        u < p_current, "current", np.where(u < p_current + p_former, "former", "never")
    )
    current = (smoking == "current").astype(float)

    # body size
    height = np.round(np.where(female == 1, 162.0, 176.0) + np.where(female == 1, 6.5, 7.0) * z()
                      - 4.0 * asian - 2.0 * hisp, 1)  # fmt: skip
    log_bmi = (np.log(27.8) + 0.17 * z() + 0.09 * black * female - 0.12 * asian + 0.03 * hisp
               - 0.00006 * a55**2 - 0.02 * current)  # fmt: skip
    weight = np.round(np.exp(log_bmi) * (height / 100.0) ** 2, 1)
    bmi = np.round(weight / (height / 100.0) ** 2, 1)

    # diabetes and glycaemia
    p_dm = _logistic(-2.55 + 0.045 * a55 + 0.11 * (bmi - 28) + 0.55 * black + 0.5 * hisp
                     + 0.7 * asian + 0.2 * male)  # fmt: skip
    diabetes = (rng.random(n) < p_dm).astype(float)
    a1c_dm = np.clip(7.3 + 0.9 * z() + 0.01 * (bmi - 30), 6.1, 13.5)
    a1c_no = np.clip(5.3 + 0.012 * (bmi - 27) + 0.006 * (age - 50) + 0.15 * black + 0.28 * z(),
                     4.3, 6.4)  # fmt: skip
    hba1c = np.round(np.where(diabetes == 1, a1c_dm, a1c_no), 1)
    metformin = diabetes * (rng.random(n) < 0.7)
    prediabetes = (1 - diabetes) * (hba1c >= 5.7) * (rng.random(n) < 0.5)

    # blood pressure and treatment
    sbp_true = (123 + 0.5 * (age - 50) + 0.6 * (bmi - 27) + 4.5 * black + 3.0 * male
                + 5.0 * diabetes + 16.0 * z())  # fmt: skip
    dbp_true = 0.35 * sbp_true + 33 + 0.15 * (bmi - 27) - 0.12 * np.maximum(age - 55, 0) + 7 * z()
    hypertensive = (sbp_true >= 140) | (dbp_true >= 90)
    hypertension = (hypertensive & (rng.random(n) < 0.75 + 0.005 * a55)).astype(float)
    bp_treated = hypertension * (rng.random(n) < _logistic(0.9 + 0.04 * a55 + 0.4 * diabetes))
    sbp = np.round(np.clip(sbp_true - 12.0 * bp_treated, 88, 230))
    dbp = np.round(np.clip(dbp_true - 6.0 * bp_treated, 45, 130))

    # lipids and statins
    tc_true = (196 + 0.55 * np.clip(age - 45, -15, 25) + 10 * female * (age > 52) - 6 * male
               + 0.8 * (bmi - 27) + 36 * z())  # fmt: skip
    hdl = np.clip(np.where(female == 1, 59.0, 47.0) - 0.7 * (bmi - 27) + 4 * black - 3 * diabetes
                  - 2 * current + 12 * z(), 20, 110)  # fmt: skip
    tg = np.clip(np.exp(np.log(112) + 0.025 * (bmi - 27) + 0.25 * diabetes + 0.45 * z()), 35, 900)
    ldl_true = np.clip(tc_true - hdl - tg / 5.0, 30, 300)
    prior_ascvd = (rng.random(n) < _logistic(-4.6 + 0.06 * a55 + 0.4 * male + 0.4 * diabetes
                                             + 0.4 * current)).astype(float)  # fmt: skip
    p_statin = _logistic(-2.2 + 0.04 * a55 + 0.02 * (ldl_true - 130) + 1.2 * diabetes
                         + 0.5 * hypertension + 2.5 * prior_ascvd)  # fmt: skip
    statin = (rng.random(n) < p_statin).astype(float)
    ldl = np.round(np.where(statin == 1, ldl_true * 0.62, ldl_true))
    tc = np.round(np.clip(tc_true - (ldl_true - ldl), 90, 400))
    hdl = np.round(hdl)
    tg = np.round(tg)

    # kidney
    creatinine = np.round(np.where(female == 1, 0.74, 0.95) * np.exp(
        0.0065 * (age - 50) + 0.06 * diabetes + 0.04 * hypertension + 0.16 * z()), 2)  # fmt: skip
    creatinine = np.clip(creatinine, 0.35, 8.0)
    egfr = np.round(ckd_epi_2021(creatinine, age, female))
    uacr = np.round(np.clip(np.exp(np.log(7.0) + 0.9 * diabetes + 0.4 * hypertension
                                   + 0.012 * (sbp - 120) + 0.9 * z()), 1, 3000), 1)  # fmt: skip
    ckd = (egfr < 60).astype(float)

    # atrial fibrillation
    af = (rng.random(n) < _logistic(-4.7 + 0.085 * a55 + 0.3 * male - 0.4 * black)).astype(float)
    anticoagulant = af * (rng.random(n) < 0.65)

    return {
        "smoking": smoking.astype(object),
        "current_smoker": current,
        "height_cm": height,
        "weight_kg": weight,
        "bmi": bmi,
        "diabetes": diabetes,
        "hba1c": hba1c,
        "prediabetes": prediabetes.astype(float),
        "metformin": metformin.astype(float),
        "hypertension": hypertension,
        "bp_treated": bp_treated.astype(float),
        "sbp": sbp,
        "dbp": dbp,
        "statin": statin,
        "tc": tc,
        "hdl": hdl,
        "ldl": ldl,
        "tg": tg,
        "creatinine": creatinine,
        "egfr": egfr,
        "uacr": uacr,
        "ckd": ckd,
        "af": af,
        "anticoagulant": anticoagulant.astype(float),
        "prior_ascvd": prior_ascvd,
    }
