"""`calculate`: missing inputs named, ranges enforced, results explained with their sources."""

from __future__ import annotations

import pytest

from pmed.errors import InputError
from pmed.findings import FindingKind
from pmed.risk import calculate, get_calculator
from tests.risk.builders import pce_inputs, prevent_inputs


def test_missing_inputs_give_a_missing_data_finding_naming_each_with_its_source() -> None:
    inputs = pce_inputs()
    del inputs["hdl"], inputs["smoker"]
    finding = calculate("pce", inputs)
    assert finding.kind == FindingKind.MISSING_DATA
    assert finding.value is None
    assert [m["name"] for m in finding.details["missing"]] == ["hdl", "smoker"]
    assert "LOINC 2085-9" in finding.summary and "LOINC 72166-2" in finding.summary


def test_out_of_range_input_is_refused_with_the_range() -> None:
    with pytest.raises(InputError, match=r"hdl 12 is outside the valid range 20–100 mg/dL") as e:
        calculate("pce", pce_inputs(hdl=12))
    assert e.value.field == "hdl"


@pytest.mark.parametrize(("field", "bad"), [("smoker", "maybe"), ("sex", "x"), ("tc", "high")])
def test_malformed_values_are_refused(field: str, bad: str) -> None:
    with pytest.raises(InputError, match=field):
        calculate("pce", pce_inputs(**{field: bad}))


def test_unknown_calculator_names_the_known_ones() -> None:
    with pytest.raises(InputError, match="known: pce, pce-revised, prevent"):
        calculate("qrisk3", {})


def test_prevent_horizon_must_be_10_or_30() -> None:
    with pytest.raises(InputError, match="horizon must be one of 10, 30"):
        calculate("prevent", prevent_inputs(), horizon=20)


def test_linear_predictor_terms_sum_to_the_published_individual_sum() -> None:
    finding = calculate("pce", pce_inputs(sex="male", race="black"))
    terms = [c for c in finding.explanation.contributions if c.unit == "log-hazard"]
    assert sum(c.contribution for c in terms) == pytest.approx(18.97, abs=0.01)


def test_risk_points_compare_each_modifiable_factor_with_the_reference_profile() -> None:
    finding = calculate("pce", pce_inputs(sex="male", smoker=True, sbp=150))
    points = {c.factor: c.contribution for c in finding.explanation.contributions
              if c.unit and "risk points" in c.unit}  # fmt: skip
    assert points["hdl"] == 0.0  # at the reference value of 50 mg/dL
    no_smoking = calculate("pce", pce_inputs(sex="male", smoker=False, sbp=150))
    assert points["smoker"] == pytest.approx(finding.value - no_smoking.value, abs=1e-3)
    assert points["sbp"] > 0 and points["smoker"] > 0


def test_sources_appear_in_contributions_and_provenance() -> None:
    sources = {"sbp": "Observation/bp-1 (2024-05-01)", "tc": "Observation/lipid-7 (2024-04-02)"}
    finding = calculate("pce", pce_inputs(), sources=sources, subject="Patient/p1")
    cited = {c.factor: c.source for c in finding.explanation.contributions if c.source}
    assert cited["sbp"] == "Observation/bp-1 (2024-05-01)"
    assert finding.provenance.inputs == ["Observation/bp-1", "Observation/lipid-7"]
    assert finding.subject == "Patient/p1"
    assert finding.provenance.knowledge["risk/pce"].startswith("Goff DC Jr")


def test_point_scores_explain_by_points_per_item() -> None:
    finding = calculate("qsofa", {"rr": 24, "sbp": 95, "altered_mentation": False})
    items = {c.factor: c.contribution for c in finding.explanation.contributions}
    assert items == {"rr": 1.0, "sbp": 1.0, "altered_mentation": 0.0}
    assert sum(items.values()) == finding.value


def test_every_calculator_declares_each_input_once() -> None:
    from pmed.risk import calculator_names

    for name in calculator_names():
        names = [spec.name for spec in get_calculator(name).inputs]
        assert len(names) == len(set(names)), name


def test_options_a_calculator_does_not_take_are_refused() -> None:
    with pytest.raises(InputError, match="pce takes no option horizon"):
        calculate("pce", pce_inputs(), horizon=30)
