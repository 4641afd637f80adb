"""Validated clinical risk calculators, explained, with what-if, for one patient or a population.

    from pmed.risk import calculate, what_if, score_columns
    finding = calculate("pce", {"age": 55, "sex": "female", "race": "white", "tc": 213,
                                "hdl": 50, "sbp": 120, "bp_treated": False, "smoker": False,
                                "diabetes": False})
    what_if(finding, {"sbp": 110})
    score_columns("pce", polars_frame)        # numpy array, one risk per row

Calculators (`calculator_names()`): pce, pce-revised, prevent, framingham-cvd, findrisc,
cha2ds2-vasc, has-bled, egfr-ckd-epi-2021, news2, qsofa, and warfarin-iwpc (from `pmed.dosing`).
Each declares its inputs once (`InputSpec`: unit, valid range, record source) and cites its paper
and table. `pmed.risk.from_record` maps a `PatientRecord` to these inputs.
"""

from __future__ import annotations

from pmed.risk.calculator import Calculator, Evaluation
from pmed.risk.engine import calculate, evaluate, score_columns
from pmed.risk.inputs import InputSpec
from pmed.risk.registry import calculator_names, get_calculator
from pmed.risk.whatif import suggested_changes, what_if

__all__ = [
    "Calculator",
    "Evaluation",
    "InputSpec",
    "calculate",
    "calculator_names",
    "evaluate",
    "get_calculator",
    "score_columns",
    "suggested_changes",
    "what_if",
]
