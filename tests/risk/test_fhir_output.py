"""Risk, score and dose findings as FHIR: RiskAssessment, Observation, MedicationRequest."""

from __future__ import annotations

import pytest

from pmed.errors import InputError
from pmed.record.fhir_output import finding_to_fhir
from pmed.record.validation import validate
from pmed.risk import calculate
from tests.risk.builders import cha2ds2_inputs, pce_inputs, prevent_inputs, warfarin_inputs


def test_pce_is_a_risk_assessment_with_probability_horizon_and_basis() -> None:
    finding = calculate("pce", pce_inputs(), sources={"tc": "Observation/tc (2024-05-01)"})
    resource = finding_to_fhir(finding, "p1")
    assert resource["resourceType"] == "RiskAssessment"
    assert resource["subject"] == {"reference": "Patient/p1"}
    prediction = resource["prediction"][0]
    assert prediction["probabilityDecimal"] == pytest.approx(finding.value / 100, abs=1e-6)
    assert prediction["whenRange"]["high"]["value"] == 10
    assert prediction["qualitativeRisk"]["text"] == "low"
    assert resource["basis"] == [{"reference": "Observation/tc"}]
    assert validate(resource) == []


def test_prevent_has_one_prediction_per_endpoint_at_its_horizon() -> None:
    resource = finding_to_fhir(calculate("prevent", prevent_inputs(), horizon=30), "Patient/p1")
    assert len(resource["prediction"]) == 5
    assert {p["whenRange"]["high"]["value"] for p in resource["prediction"]} == {30.0}
    assert validate(resource) == []


def test_point_score_is_a_risk_assessment_with_band_and_rate() -> None:
    finding = calculate("cha2ds2-vasc", cha2ds2_inputs(hypertension=True, diabetes=True))
    resource = finding_to_fhir(finding, "p1")
    prediction = resource["prediction"][0]
    assert prediction["qualitativeRisk"]["text"].startswith("high")
    assert prediction["probabilityDecimal"] == pytest.approx(0.022)
    assert "2 points" in prediction["rationale"]
    assert validate(resource) == []


def test_egfr_is_an_observation_in_ucum() -> None:
    finding = calculate("egfr-ckd-epi-2021", {"sex": "male", "age": 81, "scr_mg_dl": 1.7})
    resource = finding_to_fhir(finding, "p1")
    assert resource["resourceType"] == "Observation"
    assert resource["code"]["coding"][0]["code"] == "98979-8"
    assert resource["valueQuantity"]["value"] == 40.0
    assert resource["valueQuantity"]["code"] == "mL/min/{1.73_m2}"
    assert validate(resource) == []


def test_warfarin_dose_is_a_draft_medication_request_proposal() -> None:
    finding = calculate("warfarin-iwpc", warfarin_inputs(vkorc1="A/G", cyp2c9="*1/*1"))
    resource = finding_to_fhir(finding, "p1")
    assert resource["resourceType"] == "MedicationRequest"
    assert (resource["status"], resource["intent"]) == ("draft", "proposal")
    assert resource["medicationCodeableConcept"]["coding"][0]["code"] == "11289"
    dose = resource["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"]
    assert dose["value"] == pytest.approx(finding.details["mg_per_day"], abs=0.01)
    assert validate(resource) == []


def test_same_patient_and_calculator_get_the_same_id() -> None:
    a = finding_to_fhir(calculate("pce", pce_inputs()), "p1")
    b = finding_to_fhir(calculate("pce", pce_inputs(sbp=130)), "Patient/p1")
    c = finding_to_fhir(calculate("pce", pce_inputs()), "p2")
    assert a["id"] == b["id"] != c["id"]


def test_missing_data_findings_have_no_fhir_form() -> None:
    with pytest.raises(InputError):
        finding_to_fhir(calculate("pce", {"age": 55}), "p1")
