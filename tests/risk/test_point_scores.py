"""Point scores at every band edge: FINDRISC, CHA2DS2-VASc, HAS-BLED, NEWS2, qSOFA."""

from __future__ import annotations

from typing import Any

import pytest

from pmed.errors import InputError
from pmed.risk import calculate
from tests.risk.builders import cha2ds2_inputs, findrisc_inputs, has_bled_inputs, news2_inputs


def _points(name: str, inputs: dict[str, Any], factor: str) -> float:
    finding = calculate(name, inputs)
    return next(c.contribution for c in finding.explanation.contributions if c.factor == factor)


# ---- FINDRISC (Lindström 2003, Table 2) ------------------------------------------------------
@pytest.mark.parametrize(
    ("age", "points"), [(44, 0), (44.9, 0), (45, 2), (54, 2), (55, 3), (64, 3), (64.9, 3), (65, 4)]
)
def test_findrisc_age_bands_in_completed_years(age: float, points: int) -> None:
    assert _points("findrisc", findrisc_inputs(age=age), "age") == points


@pytest.mark.parametrize(("bmi", "points"), [(24.9, 0), (25, 1), (30, 1), (30.1, 3)])
def test_findrisc_bmi_bands(bmi: float, points: int) -> None:
    assert _points("findrisc", findrisc_inputs(bmi=bmi), "bmi") == points


@pytest.mark.parametrize(
    ("sex", "waist", "points"),
    [("male", 93.9, 0), ("male", 94, 3), ("male", 102, 3), ("male", 102.1, 4),
     ("female", 79.9, 0), ("female", 80, 3), ("female", 88, 3), ("female", 88.1, 4)],
)  # fmt: skip
def test_findrisc_waist_bands_are_sex_specific(sex: str, waist: float, points: int) -> None:
    assert _points("findrisc", findrisc_inputs(sex=sex, waist_cm=waist), "waist_cm") == points


@pytest.mark.parametrize(
    ("changes", "score", "band"),
    [
        ({}, 0, "low"),
        ({"high_glucose_history": True, "daily_fruit_vegetables": False}, 6, "low"),
        ({"high_glucose_history": True, "physical_activity": False}, 7, "slightly elevated"),
        ({"high_glucose_history": True, "family_history_diabetes": "first_degree",
          "daily_fruit_vegetables": False}, 11, "slightly elevated"),
        ({"high_glucose_history": True, "family_history_diabetes": "first_degree",
          "physical_activity": False}, 12, "moderate"),
        ({"high_glucose_history": True, "family_history_diabetes": "first_degree",
          "physical_activity": False, "antihypertensive_medication": True}, 14, "moderate"),
        ({"high_glucose_history": True, "family_history_diabetes": "first_degree",
          "physical_activity": False, "antihypertensive_medication": True,
          "daily_fruit_vegetables": False}, 15, "high"),
        ({"high_glucose_history": True, "family_history_diabetes": "first_degree",
          "physical_activity": False, "antihypertensive_medication": True, "age": 65,
          "bmi": 26, "daily_fruit_vegetables": False}, 20, "high"),
        ({"high_glucose_history": True, "family_history_diabetes": "first_degree",
          "physical_activity": False, "antihypertensive_medication": True, "age": 65,
          "bmi": 31, "daily_fruit_vegetables": False}, 22, "very high"),
    ],
)  # fmt: skip
def test_findrisc_risk_bands_at_their_edges(changes: dict[str, Any], score: int, band: str) -> None:
    finding = calculate("findrisc", findrisc_inputs(**changes))
    assert finding.value == score
    assert finding.details["band"] == band


def test_findrisc_family_history_second_degree_scores_3() -> None:
    inputs = findrisc_inputs(family_history_diabetes="second_degree")
    assert calculate("findrisc", inputs).value == 3


# ---- CHA2DS2-VASc (Lip 2010) -----------------------------------------------------------------
@pytest.mark.parametrize(("age", "points"), [(64, 0), (65, 1), (74, 1), (75, 2), (90, 2)])
def test_cha2ds2_vasc_age_points(age: int, points: int) -> None:
    assert calculate("cha2ds2-vasc", cha2ds2_inputs(age=age)).value == points


def test_cha2ds2_vasc_items_weigh_as_published() -> None:
    everything = cha2ds2_inputs(age=80, sex="female", chf=True, hypertension=True, diabetes=True,
                                stroke_tia=True, vascular_disease=True)  # fmt: skip
    assert calculate("cha2ds2-vasc", everything).value == 9
    assert calculate("cha2ds2-vasc", cha2ds2_inputs(stroke_tia=True)).value == 2


@pytest.mark.parametrize(
    ("changes", "score", "band"),
    [
        ({}, 0, "low"),
        ({"sex": "female"}, 1, "low"),
        ({"hypertension": True}, 1, "moderate"),
        ({"sex": "female", "hypertension": True}, 2, "moderate"),
        ({"hypertension": True, "diabetes": True}, 2, "high"),
        ({"sex": "female", "hypertension": True, "diabetes": True}, 3, "high"),
    ],
)
def test_cha2ds2_vasc_bands_use_the_sex_adjusted_score(
    changes: dict[str, Any], score: int, band: str
) -> None:
    finding = calculate("cha2ds2-vasc", cha2ds2_inputs(**changes))
    assert finding.value == score
    assert finding.details["band"].startswith(band)


def test_cha2ds2_vasc_reports_the_adjusted_stroke_rate() -> None:
    finding = calculate("cha2ds2-vasc", cha2ds2_inputs(hypertension=True, diabetes=True))
    assert finding.details["stroke_rate_percent_per_year"] == 2.2


# ---- HAS-BLED (Pisters 2010) -----------------------------------------------------------------
@pytest.mark.parametrize(("age", "points"), [(65, 0), (66, 1)])
def test_has_bled_elderly_is_over_65(age: int, points: int) -> None:
    assert calculate("has-bled", has_bled_inputs(age=age)).value == points


@pytest.mark.parametrize(
    ("items", "band", "rate"),
    [
        ((), "low", 1.13),
        (("stroke",), "moderate", 1.02),
        (("stroke", "alcohol"), "moderate", 1.88),
        (("stroke", "alcohol", "labile_inr"), "high", 3.74),
        (("stroke", "alcohol", "labile_inr", "bleeding_history"), "high", 8.70),
    ],
)
def test_has_bled_bands_and_bleeding_rates(items: tuple[str, ...], band: str, rate: float) -> None:
    finding = calculate("has-bled", has_bled_inputs(**dict.fromkeys(items, True)))
    assert finding.value == len(items)
    assert finding.details["band"] == band
    assert finding.details["bleeds_per_100_patient_years"] == rate


def test_has_bled_maximum_is_9() -> None:
    everything = has_bled_inputs(age=70, **{k: True for k in has_bled_inputs() if k != "age"})
    finding = calculate("has-bled", everything)
    assert finding.value == 9
    assert finding.details["bleeds_per_100_patient_years"] is None


# ---- NEWS2 (RCP 2017, Chart 1) ---------------------------------------------------------------
@pytest.mark.parametrize(
    ("rr", "points"), [(8, 3), (9, 1), (11, 1), (12, 0), (20, 0), (21, 2), (24, 2), (25, 3)]
)
def test_news2_respiration_rate_bands(rr: int, points: int) -> None:
    assert _points("news2", news2_inputs(rr=rr), "rr") == points


@pytest.mark.parametrize(
    ("spo2", "points"), [(91, 3), (92, 2), (93, 2), (94, 1), (95, 1), (96, 0), (100, 0)]
)
def test_news2_spo2_scale_1_bands(spo2: int, points: int) -> None:
    assert _points("news2", news2_inputs(spo2=spo2), "spo2") == points


@pytest.mark.parametrize(
    ("spo2", "oxygen", "points"),
    [(83, False, 3), (84, False, 2), (85, False, 2), (86, False, 1), (87, False, 1),
     (88, False, 0), (92, False, 0), (93, False, 0), (97, False, 0),
     (92, True, 0), (93, True, 1), (94, True, 1), (95, True, 2), (96, True, 2), (97, True, 3)],
)  # fmt: skip
def test_news2_spo2_scale_2_scores_high_saturation_on_oxygen(
    spo2: int, oxygen: bool, points: int
) -> None:
    inputs = news2_inputs(spo2=spo2, on_oxygen=oxygen, scale="2")
    assert _points("news2", inputs, "spo2") == points


def test_news2_supplemental_oxygen_scores_2() -> None:
    assert _points("news2", news2_inputs(on_oxygen=True), "on_oxygen") == 2


@pytest.mark.parametrize(
    ("sbp", "points"),
    [(90, 3), (91, 2), (100, 2), (101, 1), (110, 1), (111, 0), (219, 0), (220, 3)],
)
def test_news2_systolic_bp_bands(sbp: int, points: int) -> None:
    assert _points("news2", news2_inputs(sbp=sbp), "sbp") == points


@pytest.mark.parametrize(
    ("hr", "points"),
    [(40, 3), (41, 1), (50, 1), (51, 0), (90, 0), (91, 1), (110, 1), (111, 2), (130, 2),
     (131, 3)],
)  # fmt: skip
def test_news2_pulse_bands(hr: int, points: int) -> None:
    assert _points("news2", news2_inputs(hr=hr), "hr") == points


@pytest.mark.parametrize(
    ("temp", "points"),
    [(35.0, 3), (35.1, 1), (36.0, 1), (36.1, 0), (38.0, 0), (38.1, 1), (39.0, 1), (39.1, 2)],
)
def test_news2_temperature_bands(temp: float, points: int) -> None:
    assert _points("news2", news2_inputs(temp=temp), "temp") == points


@pytest.mark.parametrize(("level", "points"), [("alert", 0), ("confusion", 3), ("voice", 3),
                                               ("pain", 3), ("unresponsive", 3)])  # fmt: skip
def test_news2_new_confusion_or_vpu_scores_3(level: str, points: int) -> None:
    assert _points("news2", news2_inputs(consciousness=level), "consciousness") == points


@pytest.mark.parametrize(
    ("changes", "score", "band"),
    [
        ({}, 0, "low"),
        ({"hr": 95, "temp": 38.5, "rr": 22}, 4, "low"),
        ({"rr": 25}, 3, "low-medium"),
        ({"hr": 95, "temp": 38.5, "rr": 22, "sbp": 105}, 5, "medium"),
        ({"hr": 115, "temp": 38.5, "rr": 22, "sbp": 105}, 6, "medium"),
        ({"hr": 115, "temp": 39.5, "rr": 22, "sbp": 105}, 7, "high"),
        ({"rr": 25, "hr": 115}, 5, "medium"),
    ],
)
def test_news2_clinical_risk_bands_and_single_parameter_3_rule(
    changes: dict[str, Any], score: int, band: str
) -> None:
    finding = calculate("news2", news2_inputs(**changes))
    assert finding.value == score
    assert finding.details["band"] == band


def test_news2_scale_must_be_1_or_2() -> None:
    with pytest.raises(InputError, match="one of 1, 2"):
        calculate("news2", news2_inputs(scale="3"))


# ---- qSOFA (Seymour 2016) --------------------------------------------------------------------
@pytest.mark.parametrize(
    ("rr", "sbp", "altered", "score", "band"),
    [(21, 101, False, 0, "negative"), (22, 101, False, 1, "negative"),
     (22, 100, False, 2, "positive"), (21, 100, True, 2, "positive"),
     (30, 80, True, 3, "positive")],
)  # fmt: skip
def test_qsofa_criteria_edges(rr: int, sbp: int, altered: bool, score: int, band: str) -> None:
    finding = calculate("qsofa", {"rr": rr, "sbp": sbp, "altered_mentation": altered})
    assert finding.value == score
    assert finding.details["band"] == band
