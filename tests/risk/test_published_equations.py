"""Published test values (sources: tests/data/risk/published_values.json)."""

from __future__ import annotations

from typing import Any

import pytest

from pmed.knowledge import load
from pmed.risk import calculate, get_calculator
from pmed.risk.calculator import survival_risk
from tests.risk.builders import pce_inputs, prevent_inputs


def test_pce_guideline_example_matches_table_a_for_all_four_groups(
    published: dict[str, Any],
) -> None:
    case = published["pce_goff_2014_table_a_example"]
    for row in case["expected"]:
        finding = calculate("pce", {**case["inputs"], "sex": row["sex"], "race": row["race"]})
        expected = row.get("full_precision_percent", row["risk_percent"])
        assert round(finding.value, 1) == expected, row
        assert finding.details["individual_sum"] == pytest.approx(row["individual_sum"], abs=0.011)


def test_pce_white_man_is_5_4_at_full_precision_and_5_3_from_the_tables_rounded_sum(
    published: dict[str, Any],
) -> None:
    # Documented choice: pmed computes at full precision (5.385% → 5.4%); Table A prints 5.3%
    # because it rounds the individual sum to 60.69 before exponentiating.
    finding = calculate("pce", pce_inputs(sex="male"))
    assert finding.value == pytest.approx(5.384, abs=0.001)
    coefs = load("risk/pce").data["white_male"]
    from_rounded_sum = 100 * survival_risk(coefs["baseline_survival"], 60.69, coefs["mean"])
    assert round(from_rounded_sum, 1) == 5.3


def test_pce_outside_ages_40_to_79_says_so_instead_of_a_number() -> None:
    for age in (39, 80, 25):
        finding = calculate("pce", pce_inputs(age=age))
        assert finding.value is None
        assert "40–79" in finding.summary and str(age) in finding.summary
    assert calculate("pce", pce_inputs(age=40)).value is not None
    assert calculate("pce", pce_inputs(age=79)).value is not None


def test_pce_uses_white_equations_for_other_races() -> None:
    white = calculate("pce", pce_inputs(race="white"))
    asian = calculate("pce", pce_inputs(race="asian"))
    assert asian.value == white.value
    assert "white equations" in asian.summary


def test_pce_revised_matches_yadlowsky_examples(published: dict[str, Any]) -> None:
    case = published["pce_revised_yadlowsky_2018_example"]
    for row in case["expected"]:
        inputs = {**case["inputs"], **{k: row[k] for k in ("sex", "race", "bp_treated")}}
        assert round(calculate("pce-revised", inputs).value, 1) == row["risk_percent"], row


def test_prevent_matches_khan_table_s12_for_every_model_endpoint_and_horizon(
    published: dict[str, Any],
) -> None:
    case = published["prevent_khan_2024_table_s12"]
    for row in case["expected"]:
        for sex in ("female", "male"):
            inputs = {**case["inputs"], **case["optional"][row["model"]], "sex": sex}
            finding = calculate("prevent", inputs, horizon=row["horizon"])
            assert finding.details["model"] == row["model"]
            risk = finding.details["endpoints"][row["endpoint"]] / 100
            assert round(risk, row["places"]) == pytest.approx(row[sex]), (row, sex)


def test_prevent_value_is_total_cvd_and_reports_all_five_endpoints() -> None:
    finding = calculate("prevent", prevent_inputs())
    assert set(finding.details["endpoints"]) == {"cvd", "ascvd", "hf", "chd", "stroke"}
    assert finding.value == pytest.approx(finding.details["endpoints"]["cvd"], abs=1e-4)
    assert finding.details["horizon"] == 10


@pytest.mark.parametrize(
    ("optional", "model"),
    [
        ({}, "base"),
        ({"uacr": 40}, "acr"),
        ({"hba1c": 7.5}, "hba1c"),
        ({"sdi_decile": 8}, "sdi"),
        ({"uacr": 40, "hba1c": 7.5}, "full"),
        ({"hba1c": 7.5, "sdi_decile": 3}, "full"),
    ],
)
def test_prevent_model_is_chosen_by_the_optional_inputs_present(
    optional: dict[str, Any], model: str
) -> None:
    finding = calculate("prevent", prevent_inputs(**optional))
    assert finding.details["model"] == model
    assert (model == "base") == ("PREVENT base" in finding.summary)


def test_prevent_full_model_with_a_missing_optional_uses_its_missing_indicator() -> None:
    finding = calculate("prevent", prevent_inputs(uacr=40, hba1c=7.5))
    terms = {c.factor: c.value for c in finding.explanation.contributions}
    assert terms["miss_sdi"] == 1.0
    assert terms["miss_ln_acr"] == 0.0


def test_prevent_30_year_horizon_has_no_10_year_risk_band() -> None:
    finding = calculate("prevent", prevent_inputs(), horizon=30)
    assert finding.details["horizon"] == 30
    assert finding.details["band"] is None
    assert finding.summary.startswith("30-year")


def test_framingham_matches_the_2008_paper_examples(published: dict[str, Any]) -> None:
    for row in published["framingham_dagostino_2008_examples"]["expected"]:
        finding = calculate("framingham-cvd", row["inputs"])
        assert round(finding.value, 2) == row["risk_percent"]


def test_egfr_81_year_old_man_creatinine_1_7_is_40_0(published: dict[str, Any]) -> None:
    for row in published["egfr_ckd_epi_2021"]["expected"]:
        assert calculate("egfr-ckd-epi-2021", row["inputs"]).value == row["egfr"]


def test_egfr_woman_gets_the_female_kappa_alpha_and_factor() -> None:
    # 142 × (0.7/0.7)^-0.241 × 0.9938^50 × 1.012 at creatinine 0.7 mg/dL, age 50
    expected = 142 * 0.9938**50 * 1.012
    finding = calculate("egfr-ckd-epi-2021", {"sex": "female", "age": 50, "scr_mg_dl": 0.7})
    assert finding.value == pytest.approx(round(expected, 1))


@pytest.mark.parametrize(
    ("scr", "stage"),
    [(0.5, "G1"), (1.2, "G2"), (1.5, "G3a"), (1.9, "G3b"), (2.9, "G4"), (6.0, "G5")],
)
def test_egfr_kdigo_stage(scr: float, stage: str) -> None:
    finding = calculate("egfr-ckd-epi-2021", {"sex": "male", "age": 60, "scr_mg_dl": scr})
    assert finding.details["kdigo_stage"] == stage


def test_every_calculator_cites_a_paper_and_declares_each_inputs_source() -> None:
    from pmed.risk import calculator_names

    for name in calculator_names():
        calc = get_calculator(name)
        assert calc.evidence and all(e.title for e in calc.evidence), name
        assert calc.__doc__ and calc.__class__.__module__, name
        for spec in calc.inputs:
            assert spec.source, (name, spec.name)
            if spec.kind == "number":
                assert spec.low is not None and spec.high is not None, (name, spec.name)


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"bp_treated": True}, (4.6, 2.8, 9.9, 6.3)),
        ({"smoker": True}, (5.9, 5.0, 10.3, 10.0)),
    ],
)
def test_pce_agrees_with_the_pooledcohort_r_package_within_0_1_point(
    changes: dict[str, Any], expected: tuple[float, ...]
) -> None:
    # Cross-implementation check: bcjaeger/PooledCohort (MIT) test values, computed there with
    # more-decimal coefficients than Table A prints, hence the 0.1-point tolerance.
    groups = (("female", "black"), ("female", "white"), ("male", "black"), ("male", "white"))
    for (sex, race), value in zip(groups, expected, strict=True):
        finding = calculate("pce", pce_inputs(sex=sex, race=race, **changes))
        assert finding.value == pytest.approx(value, abs=0.1), (sex, race)
