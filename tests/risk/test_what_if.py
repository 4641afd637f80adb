"""What-if: equation changes recomputed; treatments not in the equations are cited estimates."""

from __future__ import annotations

import pytest

from pmed.errors import InputError
from pmed.risk import calculate, suggested_changes, what_if
from tests.risk.builders import news2_inputs, pce_inputs, prevent_inputs


def test_stopping_smoking_is_recomputed_by_the_equation() -> None:
    smoker = calculate("pce", pce_inputs(sex="male", smoker=True))
    result = what_if(smoker, {"smoker": False})
    expected = calculate("pce", pce_inputs(sex="male", smoker=False)).value
    assert result.value == pytest.approx(expected, abs=1e-4)
    assert result.absolute_change == pytest.approx(expected - smoker.value, abs=1e-3)
    assert result.relative_change == pytest.approx((expected - smoker.value) / smoker.value,
                                                   abs=1e-3)  # fmt: skip
    assert result.estimate is False


def test_sbp_change_keeps_the_prevent_horizon() -> None:
    base = calculate("prevent", prevent_inputs(), horizon=30)
    result = what_if(base, {"sbp": "120"})
    expected = calculate("prevent", prevent_inputs(sbp=120), horizon=30).value
    assert result.value == pytest.approx(expected, abs=1e-4)


def test_statin_effect_is_an_estimate_from_ldl_lowering_and_ctt() -> None:
    base = calculate("pce", pce_inputs(sex="male", ldl=160))
    result = what_if(base, {"statin": "high"})
    mmol = 160 * 0.50 / 38.67
    assert result.value == pytest.approx(base.value * 0.78**mmol, abs=1e-3)
    assert result.estimate is True
    assert "Cholesterol Treatment Trialists" in result.note and "2018 AHA/ACC" in result.note


def test_statin_what_if_needs_ldl() -> None:
    base = calculate("pce", pce_inputs())
    with pytest.raises(InputError, match="LDL"):
        what_if(base, {"statin": True})


def test_sbp_lowering_uses_ettehad_20_percent_per_10_mmhg() -> None:
    base = calculate("framingham-cvd", {"sex": "male", "age": 53, "tc": 161, "hdl": 55,
                                        "sbp": 145, "bp_treated": True, "smoker": False,
                                        "diabetes": True})  # fmt: skip
    result = what_if(base, {"sbp_lowering": 10})
    assert result.value == pytest.approx(base.value * 0.8, abs=1e-3)
    assert result.estimate and "Ettehad" in result.note


def test_equation_and_treatment_changes_combine() -> None:
    base = calculate("pce", pce_inputs(sex="male", smoker=True, ldl=130))
    result = what_if(base, {"smoker": False, "ldl_lowering": 38.67})
    quit_only = calculate("pce", pce_inputs(sex="male", smoker=False)).value
    assert result.value == pytest.approx(quit_only * 0.78, abs=1e-3)


def test_treatments_do_not_apply_to_non_cardiovascular_scores() -> None:
    base = calculate("news2", news2_inputs())
    with pytest.raises(InputError, match="cardiovascular"):
        what_if(base, {"sbp_lowering": 10})
    assert what_if(base, {"rr": 25}).value == 3


def test_unknown_change_names_the_changeable_inputs() -> None:
    base = calculate("pce", pce_inputs())
    with pytest.raises(InputError, match="has no input 'bmi'"):
        what_if(base, {"bmi": 30})


def test_what_if_refuses_findings_without_a_value() -> None:
    with pytest.raises(InputError):
        what_if(calculate("pce", pce_inputs(age=30)), {"sbp": 110})


def test_suggested_changes_are_the_modifiable_ones_that_apply() -> None:
    finding = calculate("pce", pce_inputs(smoker=True, sbp=140, ldl=150))
    assert suggested_changes(finding) == [{"smoker": False}, {"sbp": 120}, {"statin": "moderate"}]
    assert suggested_changes(calculate("pce", pce_inputs())) == []
