"""Small builders of calculator inputs for the risk tests."""

from __future__ import annotations

from typing import Any


def pce_inputs(**changes: Any) -> dict[str, Any]:
    """The 2013 guideline example patient (Goff 2014, Table A), with changes."""
    base = {"age": 55, "sex": "female", "race": "white", "tc": 213, "hdl": 50, "sbp": 120,
            "bp_treated": False, "smoker": False, "diabetes": False}  # fmt: skip
    return {**base, **changes}


def prevent_inputs(**changes: Any) -> dict[str, Any]:
    """The PREVENT Table S12 example patient (Khan 2024), with changes."""
    base = {"age": 50, "sex": "female", "tc": 200, "hdl": 45, "sbp": 160, "bp_treated": True,
            "statin": False, "diabetes": True, "smoker": False, "bmi": 35, "egfr": 90}  # fmt: skip
    return {**base, **changes}


def news2_inputs(**changes: Any) -> dict[str, Any]:
    """A well adult: every NEWS2 parameter scores 0."""
    base = {"rr": 16, "spo2": 97, "on_oxygen": False, "sbp": 120, "hr": 70,
            "consciousness": "alert", "temp": 37.0}  # fmt: skip
    return {**base, **changes}


def findrisc_inputs(**changes: Any) -> dict[str, Any]:
    """A FINDRISC respondent scoring 0."""
    base = {"age": 40, "sex": "male", "bmi": 22, "waist_cm": 85, "physical_activity": True,
            "daily_fruit_vegetables": True, "antihypertensive_medication": False,
            "high_glucose_history": False, "family_history_diabetes": "none"}  # fmt: skip
    return {**base, **changes}


def cha2ds2_inputs(**changes: Any) -> dict[str, Any]:
    base = {"age": 50, "sex": "male", "chf": False, "hypertension": False, "diabetes": False,
            "stroke_tia": False, "vascular_disease": False}  # fmt: skip
    return {**base, **changes}


def has_bled_inputs(**changes: Any) -> dict[str, Any]:
    base = {"age": 60, "uncontrolled_hypertension": False, "abnormal_renal_function": False,
            "abnormal_liver_function": False, "stroke": False, "bleeding_history": False,
            "labile_inr": False, "antiplatelet_or_nsaid": False, "alcohol": False}  # fmt: skip
    return {**base, **changes}


def warfarin_inputs(**changes: Any) -> dict[str, Any]:
    base = {"age": 55, "height_cm": 175, "weight_kg": 80, "race": "white",
            "enzyme_inducer": False, "amiodarone": False}  # fmt: skip
    return {**base, **changes}
