"""From a `PatientRecord` to calculator inputs (with sources), scores and what-ifs."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from pmed.findings import FindingKind
from pmed.record.patient import PatientRecord
from pmed.risk import calculate
from pmed.risk.from_record import record_inputs, score_record, what_if_record
from tests.record.builders import condition, observation, patient

PID = "p1"
AT = date(2024, 6, 1)
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"


def _race(resource: dict[str, Any], omb: str) -> dict[str, Any]:
    resource["extension"] = [{
        "url": "http://hl7.org/fhir/us/core/StructureDefinition/us-core-race",
        "extension": [{"url": "ombCategory", "valueCoding": {
            "system": "urn:oid:2.16.840.1.113883.6.238", "code": omb}}],
    }]  # fmt: skip
    return resource


def _smoking(oid: str, answer: str, when: str) -> dict[str, Any]:
    return {
        "resourceType": "Observation", "id": oid, "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "72166-2"}]},
        "subject": {"reference": f"Patient/{PID}"}, "effectiveDateTime": when,
        "valueCodeableConcept": {"coding": [{"system": "http://snomed.info/sct", "code": answer}]},
    }  # fmt: skip


def _medication(mid: str, rxnorm: str, text: str, when: str) -> dict[str, Any]:
    return {
        "resourceType": "MedicationRequest", "id": mid, "status": "active", "intent": "order",
        "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": rxnorm,
                                                  "display": text}], "text": text},
        "subject": {"reference": f"Patient/{PID}"}, "authoredOn": when,
    }  # fmt: skip


def _genotype(oid: str, gene: str, diplotype: str) -> dict[str, Any]:
    return {
        "resourceType": "Observation", "id": oid, "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "84413-4"}]},
        "subject": {"reference": f"Patient/{PID}"}, "effectiveDateTime": "2023-01-01",
        "valueCodeableConcept": {"text": f"{gene} {diplotype}"},
        "component": [{
            "code": {"coding": [{"system": "http://loinc.org", "code": "48018-6"}]},
            "valueCodeableConcept": {"coding": [{"system": "http://www.genenames.org/geneId",
                                                 "display": gene}]},
        }],
    }  # fmt: skip


def guideline_patient(**extra: Any) -> list[dict[str, Any]]:
    """The 2013 guideline example as a record: man born 1969 (55 on 2024-06-01), white, TC 213,
    HDL 50, SBP 120, never smoker, no diabetes, no BP medication."""
    resources = [
        _race(patient(PID, birth="1969-01-15", gender="male"), "2106-3"),
        observation("tc", PID, "2093-3", "2024-05-01", 213),
        observation("hdl", PID, "2085-9", "2024-05-01", 50),
        observation("ldl", PID, "18262-6", "2024-05-01", 140),
        observation("sbp", PID, "8480-6", "2024-05-02", 120, "mm[Hg]", "vital-signs"),
        observation("scr", PID, "2160-0", "2024-05-01", 1.0),
        observation("bmi", PID, "39156-5", "2024-05-02", 27, "kg/m2", "vital-signs"),
        _smoking("smk", "266919005", "2024-05-02"),
    ]
    return resources + list(extra.get("more", []))


def test_record_inputs_read_each_value_with_its_source() -> None:
    record = PatientRecord.from_resources(guideline_patient())
    got = record_inputs(record, AT)
    assert {k: got.values[k] for k in ("age", "sex", "race", "tc", "hdl", "sbp", "smoker")} == {
        "age": 55, "sex": "male", "race": "white", "tc": 213, "hdl": 50, "sbp": 120,
        "smoker": False,
    }  # fmt: skip
    assert got.values["diabetes"] is False and got.values["bp_treated"] is False
    assert got.sources["tc"] == "Observation/tc (2024-05-01)"
    assert got.sources["smoker"] == "Observation/smk (2024-05-02)"
    assert got.sources["diabetes"] == "no active diabetes condition in the record"
    assert got.values["egfr"] == pytest.approx(
        calculate("egfr-ckd-epi-2021", {"sex": "male", "age": 55, "scr_mg_dl": 1.0}).value
    )


def test_score_record_reproduces_the_guideline_example_with_sources() -> None:
    record = PatientRecord.from_resources(guideline_patient())
    findings = {f.details["calculator"]: f for f in score_record(record, at=AT)}
    pce = findings["pce"]
    assert round(pce.value, 1) == 5.4
    assert pce.subject == "Patient/p1"
    assert "Observation/tc" in pce.provenance.inputs
    assert {"prevent", "framingham-cvd", "pce-revised", "egfr-ckd-epi-2021"} <= set(findings)
    assert "cha2ds2-vasc" not in findings  # no atrial fibrillation
    assert "warfarin-iwpc" not in findings  # not on warfarin


def test_missing_measurement_gives_a_missing_data_finding_not_a_guess() -> None:
    resources = [r for r in guideline_patient() if r["id"] != "hdl"]
    findings = score_record(PatientRecord.from_resources(resources), at=AT, names=["pce"])
    assert findings[0].kind == FindingKind.MISSING_DATA
    assert [m["name"] for m in findings[0].details["missing"]] == ["hdl"]


def test_conditions_and_medications_set_flags_with_their_resources() -> None:
    more = [
        condition("dm", PID, "44054006", "2020-01-01"),
        _medication("statin", "617312", "atorvastatin 10 MG Oral Tablet", "2021-01-01"),
        _medication("acei", "314076", "lisinopril 10 MG Oral Tablet", "2021-01-01"),
    ]
    record = PatientRecord.from_resources(guideline_patient(more=more))
    got = record_inputs(record, AT)
    assert got.values["diabetes"] is True and got.sources["diabetes"].startswith("Condition/dm")
    assert got.values["statin"] is True and got.values["bp_treated"] is True


def test_established_ascvd_excludes_primary_prevention_equations() -> None:
    more = [condition("mi", PID, "22298006", "2019-01-01")]
    record = PatientRecord.from_resources(guideline_patient(more=more))
    findings = {f.details["calculator"]: f for f in score_record(record, at=AT)}
    assert findings["pce"].value is None
    assert "established ASCVD" in findings["pce"].summary


def test_warfarin_reads_cyp2c9_and_vkorc1_from_genomic_observations() -> None:
    more = [
        condition("af", PID, "49436004", "2022-01-01"),
        _medication("warf", "855332", "warfarin sodium 5 MG Oral Tablet", "2024-01-01"),
        observation("ht", PID, "8302-2", "2024-05-02", 180, "cm", "vital-signs"),
        observation("wt", PID, "29463-7", "2024-05-02", 90, "kg", "vital-signs"),
        _genotype("g1", "CYP2C9", "*1/*3"),
        _genotype("g2", "VKORC1", "rs9923231 reference (C)/rs9923231 variant (T)"),
    ]
    record = PatientRecord.from_resources(guideline_patient(more=more))
    findings = {f.details["calculator"]: f for f in score_record(record, at=AT)}
    dose = findings["warfarin-iwpc"]
    assert dose.details["algorithm"] == "pharmacogenetic"
    assert dose.details["cyp2c9"] == "*1/*3" and dose.details["vkorc1"] == "A/G"
    assert "Observation/g1" in dose.details["sources"]["cyp2c9"]
    assert "cha2ds2-vasc" in findings and "has-bled" in findings


def test_warfarin_without_genotypes_uses_the_clinical_algorithm() -> None:
    more = [
        _medication("warf", "11289", "warfarin", "2024-01-01"),
        observation("ht", PID, "8302-2", "2024-05-02", 180, "cm", "vital-signs"),
        observation("wt", PID, "29463-7", "2024-05-02", 90, "kg", "vital-signs"),
    ]
    record = PatientRecord.from_resources(guideline_patient(more=more))
    dose = score_record(record, at=AT, names=["warfarin-iwpc"])[0]
    assert dose.details["algorithm"] == "clinical"


def test_what_if_record_applies_changes_to_every_risk_that_has_them() -> None:
    record = PatientRecord.from_resources(guideline_patient())
    results = what_if_record(record, {"sbp": "140"}, at=AT)
    by_name = {f.details["calculator"]: w for f, w in results}
    assert {"pce", "pce-revised", "prevent", "framingham-cvd"} <= set(by_name)
    assert all(w.absolute_change > 0 for w in by_name.values())
    assert "egfr-ckd-epi-2021" not in by_name


def test_recorded_value_outside_an_equations_range_says_not_applicable() -> None:
    resources = [r for r in guideline_patient() if r["id"] != "sbp"]
    resources.append(observation("sbp", PID, "8480-6", "2024-05-02", 190, "mm[Hg]"))
    findings = {f.details["calculator"]: f for f in score_record(
        PatientRecord.from_resources(resources), at=AT)}  # fmt: skip
    assert findings["prevent"].value is None
    assert "90–180" in findings["prevent"].summary
    assert findings["pce"].value is not None  # PCE accepts SBP up to 200


def test_labile_inr_is_under_60_percent_of_recent_inrs_in_range_for_warfarin_users() -> None:
    inrs = [observation(f"inr{i}", PID, "6301-6", f"2024-0{i}-01", v, "{INR}")
            for i, v in enumerate((1.6, 2.5, 3.6, 1.8), start=1)]  # fmt: skip
    more = [_medication("warf", "11289", "warfarin", "2023-01-01"), *inrs]
    got = record_inputs(PatientRecord.from_resources(guideline_patient(more=more)), AT)
    assert got.values["labile_inr"] is True
    assert got.sources["labile_inr"].startswith("25% of 4 INRs")
    findings = score_record(PatientRecord.from_resources(guideline_patient(more=more)), at=AT,
                            names=["has-bled"])  # fmt: skip
    assert [m["name"] for m in findings[0].details["missing"]] == ["alcohol"]


def test_implausible_recorded_creatinine_gives_no_egfr_and_says_why() -> None:
    resources = [r for r in guideline_patient() if r["id"] != "scr"]
    resources.append(observation("scr0", PID, "2160-0", "2024-05-01", 0))
    got = record_inputs(PatientRecord.from_resources(resources), AT)
    assert "egfr" not in got.values
    assert any("creatinine 0 mg/dL" in note and "Observation/scr0" in note for note in got.notes)
