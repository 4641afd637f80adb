"""PatientRecord read as a clinical specification.

Expectations on the Synthea bundles (tests/data/fhir/synthea, Apache-2.0, see README there) were
checked by hand against the raw JSON; the built resources cover conversions and edge cases.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from pmed.errors import InputError, KnowledgeError, NotFoundError
from pmed.record.codesets import CodeSet, condition_set_names, medication_set_names
from pmed.record.patient import PatientRecord

SYNTHEA = Path(__file__).parents[1] / "data" / "fhir" / "synthea"
FABIAN = "Fabian_Murray_a120c913-9ee0-4fcc-8344-826e74335c80.json"
GEOFFREY = "Geoffrey_Abbott_73a7d6b7-0310-4fff-9b0b-7891a5e390f5.json"
ANTONY = "Antony_Anderson_88fedc82-1cc1-4e01-9ef1-145bbf149bb0.json"
LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
UCUM = "http://unitsofmeasure.org"


def _bundle(name: str) -> dict[str, Any]:
    return json.loads((SYNTHEA / name).read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def fabian() -> PatientRecord:
    return PatientRecord.from_resources([_bundle(FABIAN)])


@pytest.fixture(scope="module")
def geoffrey() -> PatientRecord:
    return PatientRecord.from_resources([_bundle(GEOFFREY)])


# ----------------------------------------------------------------------- builders
def patient(pid: str = "p1", **fields: Any) -> dict[str, Any]:
    return {"resourceType": "Patient", "id": pid, **fields}


def obs(
    oid: str,
    code: str,
    value: float | None = None,
    unit: str | None = None,
    when: str = "2024-05-01",
    subject: str = "Patient/p1",
    **extra: Any,
) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "id": oid,
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": code}]},
        "subject": {"reference": subject},
        "effectiveDateTime": when,
        **extra,
    }
    if value is not None:
        resource["valueQuantity"] = {"value": value, "unit": unit, "system": UCUM, "code": unit}
    return resource


def condition(cid: str, system: str, code: str, status: str = "active", **extra: Any) -> dict:
    return {
        "resourceType": "Condition",
        "id": cid,
        "clinicalStatus": {"coding": [{"code": status}]},
        "code": {"coding": [{"system": system, "code": code}]},
        "subject": {"reference": "Patient/p1"},
        **extra,
    }


def record(*resources: dict[str, Any], **patient_fields: Any) -> PatientRecord:
    return PatientRecord.from_resources([patient(**patient_fields), *resources])


# ---------------------------------------------------------------- Synthea patients
def test_demographics_of_a_synthea_patient_come_from_patient_and_us_core(
    fabian: PatientRecord,
) -> None:
    assert fabian.id == "b4a36fff-6981-496a-a0d3-b274dd4b363a"
    assert fabian.birth_date == date(1981, 2, 14)
    assert fabian.sex == "male"
    assert fabian.race is not None and fabian.race.codes == ["2106-3"]
    assert fabian.race.text == "White"
    assert fabian.ethnicity is not None and fabian.ethnicity.codes == ["2186-5"]


def test_age_turns_on_the_birthday(fabian: PatientRecord) -> None:
    assert fabian.age(date(2021, 2, 13)) == 39
    assert fabian.age(date(2021, 2, 14)) == 40
    assert fabian.age(datetime(2020, 12, 19, 20, 0)) == 39


def test_latest_total_cholesterol_in_mg_dl_and_mmol_l(fabian: PatientRecord) -> None:
    tc = fabian.latest("2093-3")
    assert tc is not None
    assert tc.value == pytest.approx(242.766, abs=1e-3)
    assert tc.unit == "mg/dL"
    assert tc.reference == "Observation/c774010a-fde9-481b-9d11-d2d4337de4ad"
    assert tc.source == "Observation/c774010a-fde9-481b-9d11-d2d4337de4ad (2020-12-19)"
    mmol = fabian.latest("2093-3", unit="mmol/L")
    assert mmol is not None and mmol.value == pytest.approx(242.766 / 38.67, abs=1e-4)
    assert mmol.original_value == pytest.approx(242.766, abs=1e-3)


def test_latest_before_a_date_returns_the_earlier_value(fabian: PatientRecord) -> None:
    tc = fabian.latest("2093-3", before=date(2020, 12, 5))
    assert tc is not None and tc.value == pytest.approx(174.97, abs=0.01)
    hba1c = fabian.latest("4548-4", before=date(2020, 12, 10))
    assert hba1c is not None and hba1c.value == pytest.approx(7.573, abs=1e-3)
    assert fabian.latest("2093-3", before=date(2010, 1, 1)) is None


def test_lipid_and_kidney_labs_convert(fabian: PatientRecord) -> None:
    tg = fabian.latest("2571-8", "mmol/L")
    assert tg is not None and tg.value == pytest.approx(362.297 / 88.57, abs=1e-4)
    hdl = fabian.latest("2085-9")
    assert hdl is not None and hdl.value == pytest.approx(29.34, abs=0.01)
    ldl = fabian.latest("18262-6")
    assert ldl is not None and ldl.value == pytest.approx(140.97, abs=0.01)
    # Synthea codes creatinine in blood (38483-4); a request for serum creatinine finds it.
    scr = fabian.latest("2160-0", "umol/L")
    assert scr is not None and scr.value == pytest.approx(1.32469 * 88.4, abs=1e-3)
    assert scr.original_code == "38483-4"
    egfr = fabian.latest("33914-3")
    assert egfr is not None and egfr.value == pytest.approx(126.03, abs=0.01)
    uacr = fabian.latest("14959-1")
    assert uacr is not None and uacr.value == pytest.approx(10.548, abs=1e-3)


def test_hba1c_percent_to_ifcc_uses_the_master_equation(fabian: PatientRecord) -> None:
    ifcc = fabian.latest("4548-4", "mmol/mol")
    assert ifcc is not None
    assert ifcc.value == pytest.approx((6.073139 - 2.152) / 0.09148, abs=1e-3)  # 42.86


def test_history_is_oldest_first(fabian: PatientRecord) -> None:
    values = [round(m.value, 2) for m in fabian.observations("2093-3")]
    assert values == [196.40, 195.63, 174.97, 242.77]


def test_blood_pressure_comes_from_the_panel_components(fabian: PatientRecord) -> None:
    bp = fabian.blood_pressure()
    assert bp is not None and bp.diastolic is not None
    assert bp.systolic.value == pytest.approx(125.24, abs=0.01)
    assert bp.diastolic.value == pytest.approx(82.36, abs=0.01)
    assert (
        bp.systolic.reference
        == bp.diastolic.reference
        == ("Observation/98b8fa95-f9ef-4375-807a-f5c1e43f8063")
    )
    earlier = fabian.blood_pressure(before=date(2016, 1, 1))
    assert earlier is not None and earlier.systolic.value == pytest.approx(102.12, abs=0.01)


def test_smoking_status_and_bmi(fabian: PatientRecord, geoffrey: PatientRecord) -> None:
    assert fabian.smoking_status is not None and fabian.smoking_status.status == "never"
    assert geoffrey.smoking_status is not None and geoffrey.smoking_status.status == "former"
    assert geoffrey.smoking_status.ever and not geoffrey.smoking_status.current
    bmi = fabian.bmi
    assert bmi is not None and bmi.value == pytest.approx(30.29, abs=0.01)


def test_diabetes_is_active_from_its_onset(fabian: PatientRecord) -> None:
    assert fabian.has_condition("diabetes")
    [dm] = fabian.conditions("diabetes")
    assert dm.code.code == "44054006" and dm.onset is not None
    assert dm.onset.date() == date(2020, 12, 5)
    assert not fabian.has_condition("diabetes", before=date(2020, 1, 1))
    assert not fabian.has_condition("hypertension")
    # prediabetes is not diabetes
    assert not any(c.code.code == "15777000" for c in fabian.conditions("diabetes"))


def test_resolved_conditions_count_only_when_asked(fabian: PatientRecord) -> None:
    sinusitis = CodeSet.of(["444814009"])
    assert fabian.conditions(sinusitis) == []
    assert len(fabian.conditions(sinusitis, active_only=False)) == 4
    # active at a date inside an episode (2019-08-10 .. 2019-08-17)
    assert fabian.has_condition(sinusitis, before=date(2019, 8, 12))


def test_medications_by_code_set(fabian: PatientRecord, geoffrey: PatientRecord) -> None:
    [metformin] = fabian.medications("antidiabetics")
    assert metformin.code.code == "860975" and metformin.status == "active"
    assert fabian.medications("nsaids") == []  # naproxen was stopped
    assert [m.code.code for m in fabian.medications("nsaids", active_only=False)] == ["849574"]
    assert geoffrey.has_condition("hypertension")
    assert [m.code.display for m in geoffrey.medications("antihypertensives")] == [
        "Hydrochlorothiazide 25 MG"
    ]
    assert not geoffrey.has_medication("statins")


def test_a_healthy_patient_has_no_risk_conditions() -> None:
    antony = PatientRecord.from_resources([_bundle(ANTONY)])
    assert all(not antony.has_condition(name) for name in condition_set_names())
    assert antony.latest("4548-4") is None
    assert antony.genomic_results() == []


# ------------------------------------------------------------ built resources
def test_cholesterol_in_mmol_l_answers_a_mg_dl_request_by_related_loinc() -> None:
    rec = record(obs("o1", "14647-2", 5.0, "mmol/L"))
    tc = rec.latest("2093-3", "mg/dL")
    assert tc is not None and tc.value == pytest.approx(193.35)
    assert tc.code == "2093-3" and tc.original_code == "14647-2"


def test_creatinine_micromol_to_mg_dl_and_spelling_variants() -> None:
    rec = record(obs("o1", "2160-0", 88.4, "µmol/L"))
    scr = rec.latest("2160-0", "mg/dL")
    assert scr is not None and scr.value == pytest.approx(1.0)


def test_hba1c_ifcc_to_percent() -> None:
    rec = record(obs("o1", "59261-8", 48, "mmol/mol"))
    a1c = rec.latest("4548-4", "%")
    assert a1c is not None and a1c.value == pytest.approx(0.09148 * 48 + 2.152)  # 6.54%


def test_glucose_mmol_to_mg_dl() -> None:
    rec = record(obs("o1", "2339-0", 100.0, "mg/dL"))
    glucose = rec.latest("2339-0", "mmol/L")
    assert glucose is not None and glucose.value == pytest.approx(100 / 18.016)


def test_an_unconvertible_unit_is_an_input_error_naming_the_observation() -> None:
    rec = record(obs("o1", "2093-3", 5.0, "g/L"))
    with pytest.raises(InputError, match=r"Observation/o1"):
        rec.latest("2093-3", "mmol/L")


def test_entered_in_error_observations_are_ignored() -> None:
    rec = record(
        obs("good", "2093-3", 200, "mg/dL", when="2024-01-01"),
        obs("bad", "2093-3", 999, "mg/dL", when="2024-06-01", status="entered-in-error"),
    )
    tc = rec.latest("2093-3")
    assert tc is not None and tc.reference == "Observation/good"


def test_standalone_systolic_and_diastolic_pair_by_time() -> None:
    rec = record(
        obs("s1", "8480-6", 150, "mm[Hg]", when="2024-01-01T10:00:00Z"),
        obs("d1", "8462-4", 95, "mmHg", when="2024-01-01T10:00:00Z"),
        obs("d0", "8462-4", 70, "mm[Hg]", when="2023-01-01"),
    )
    bp = rec.blood_pressure()
    assert bp is not None and bp.diastolic is not None
    assert (bp.systolic.value, bp.diastolic.value) == (150, 95)
    assert bp.sources == ["Observation/s1 (2024-01-01)", "Observation/d1 (2024-01-01)"]


def test_smoking_answer_codes_map_to_categories() -> None:
    def smoking(code: str, oid: str, when: str) -> dict[str, Any]:
        answer = {"coding": [{"system": SNOMED, "code": code}]}
        return obs(oid, "72166-2", when=when, valueCodeableConcept=answer)

    rec = record(smoking("266919005", "a", "2020-01-01"), smoking("428041000124106", "b", "2023"))
    assert rec.smoking_status is not None and rec.smoking_status.current
    assert rec.smoking(before=date(2022, 1, 1)).status == "never"  # type: ignore[union-attr]


def test_bmi_is_computed_from_weight_and_height_when_not_recorded() -> None:
    rec = record(obs("w", "29463-7", 180, "[lb_av]"), obs("h", "8302-2", 70, "[in_i]"))
    bmi = rec.bmi
    assert bmi is not None and bmi.value == pytest.approx(25.83, abs=0.01)


def test_icd10_codes_match_by_category_prefix() -> None:
    rec = record(condition("c1", "http://hl7.org/fhir/sid/icd-10-cm", "E11.9"))
    assert rec.has_condition("diabetes")
    assert not rec.has_condition("heart_failure")


def test_refuted_conditions_never_count() -> None:
    refuted = {"coding": [{"code": "refuted"}]}
    rec = record(condition("c1", SNOMED, "49436004", verificationStatus=refuted))
    assert not rec.has_condition("atrial_fibrillation", active_only=False)


def test_unknown_code_set_is_a_knowledge_error() -> None:
    with pytest.raises(KnowledgeError, match="no condition code set"):
        record().has_condition("gout-ish")


def test_contained_and_referenced_medications_and_statements_are_read() -> None:
    contained = {
        "resourceType": "MedicationRequest",
        "id": "mr1",
        "status": "active",
        "intent": "order",
        "subject": {"reference": "Patient/p1"},
        "contained": [
            {"resourceType": "Medication", "id": "m", "code": {"text": "Atorvastatin 40 mg tab"}}
        ],
        "medicationReference": {"reference": "#m"},
        "authoredOn": "2024-01-01",
    }
    referenced = {
        "resourceType": "MedicationStatement",
        "id": "ms1",
        "status": "active",
        "subject": {"reference": "Patient/p1"},
        "medicationReference": {"reference": "Medication/w"},
        "effectiveDateTime": "2023-06-01",
    }
    warfarin = {
        "resourceType": "Medication",
        "id": "w",
        "code": {"coding": [{"system": RXNORM, "code": "11289", "display": "warfarin"}]},
    }
    rec = record(contained, referenced, warfarin)
    assert [m.reference for m in rec.medications("statins")] == ["MedicationRequest/mr1"]
    [anticoagulant] = rec.medications("anticoagulants")
    assert anticoagulant.resource_type == "MedicationStatement"
    assert anticoagulant.code.code == "11289"
    assert rec.medications(["11289"])[0].reference == "MedicationStatement/ms1"


def test_genomic_results_from_genomics_reporting_observations() -> None:
    gene = {
        "code": {"coding": [{"system": LOINC, "code": "48018-6"}]},
        "valueCodeableConcept": {
            "coding": [
                {
                    "system": "http://www.genenames.org/geneId",
                    "code": "HGNC:2621",
                    "display": "CYP2C19",
                }
            ]
        },
    }
    genotype = obs(
        "g1",
        "84413-4",
        when="2024-02-01",
        component=[gene],
        category=[{"coding": [{"code": "laboratory"}]}],
        valueCodeableConcept={"text": "CYP2C19 *1/*2"},
    )
    phenotype = obs(
        "g2",
        "53040-2",
        when="2024-02-01",
        component=[
            gene,
            {"code": {"text": "Activity score"}, "valueString": "1.0"},
        ],
        valueCodeableConcept={"text": "Intermediate Metabolizer"},
    )
    [result] = record(genotype, phenotype).genomic_results()
    assert result.gene == "CYP2C19"
    assert result.diplotype == "*1/*2"
    assert result.phenotype == "Intermediate Metabolizer"
    assert result.activity_score == "1.0"
    assert set(result.references) == {"Observation/g1", "Observation/g2"}


def test_february_29_birthdays_count_from_march_1_in_common_years() -> None:
    rec = record(birthDate="2000-02-29")
    assert rec.age(date(2021, 2, 28)) == 20
    assert rec.age(date(2021, 3, 1)) == 21
    assert rec.age(date(2024, 2, 29)) == 24


def test_resources_of_other_patients_are_left_out() -> None:
    rec = PatientRecord.from_resources(
        [
            patient("p1"),
            patient("p2"),
            obs("mine", "2093-3", 180, "mg/dL"),
            obs("theirs", "2093-3", 250, "mg/dL", when="2025-01-01", subject="Patient/p2"),
        ],
        patient_id="p1",
    )
    assert [m.reference for m in rec.observations("2093-3")] == ["Observation/mine"]


def test_bundle_entries_without_ids_are_cited_by_their_urn_uuid() -> None:
    pat = "urn:uuid:11111111-1111-4111-8111-111111111111"
    lab = "urn:uuid:22222222-2222-4222-8222-222222222222"
    resource = obs("x", "2093-3", 190, "mg/dL", subject=pat)
    del resource["id"]
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {"fullUrl": pat, "resource": {"resourceType": "Patient"}},
            {"fullUrl": lab, "resource": resource},
        ],
    }
    rec = PatientRecord.from_resources([bundle])
    assert rec.id == "11111111-1111-4111-8111-111111111111"
    tc = rec.latest("2093-3")
    assert tc is not None and tc.reference == "Observation/22222222-2222-4222-8222-222222222222"


def test_several_patients_without_an_id_is_an_input_error() -> None:
    with pytest.raises(InputError, match="2 Patient resources"):
        PatientRecord.from_resources([patient("a"), patient("b")])
    with pytest.raises(NotFoundError):
        PatientRecord.from_resources([patient("a")], patient_id="zz")


def test_shipped_code_sets_cover_the_issue_list() -> None:
    assert set(condition_set_names()) >= {
        "diabetes",
        "hypertension",
        "atrial_fibrillation",
        "heart_failure",
        "ckd",
        "stroke_tia",
        "mi_chd",
        "vascular_disease",
        "bleeding_history",
        "liver_disease",
    }
    assert set(medication_set_names()) >= {
        "statins",
        "antihypertensives",
        "anticoagulants",
        "antiplatelets",
        "antidiabetics",
        "nsaids",
        "amiodarone",
        "enzyme_inducers",
    }


# ------------------------------------------------------------------------------- store
def test_load_from_the_store_reads_the_same_record(settings: Any) -> None:
    """Ingested Synthea bundle (urn:uuid references resolved by ingest) loads to the same view."""
    from pmed.record.ingest import ingest_paths
    from pmed.record.store import Store

    store = Store.open(settings)
    ingest_paths(store, [SYNTHEA / FABIAN])
    loaded = PatientRecord.load(store, "b4a36fff-6981-496a-a0d3-b274dd4b363a")
    direct = PatientRecord.from_resources([_bundle(FABIAN)])
    assert loaded.latest("2093-3") == direct.latest("2093-3")
    assert loaded.blood_pressure() == direct.blood_pressure()
    assert [c.reference for c in loaded.conditions()] == [c.reference for c in direct.conditions()]
    assert [m.reference for m in loaded.medications()] == [
        m.reference for m in direct.medications()
    ]
    with pytest.raises(NotFoundError):
        PatientRecord.load(store, "no-such-patient")


def test_pgx_engine_observations_read_back_as_genomic_results(tmp_path: Path) -> None:
    """The PGx engine's Genomics Reporting Observations (pmed.record.fhir_output.genomics) come
    back through genomic_results with the called diplotype, phenotype and activity score."""
    pgx = pytest.importorskip("pmed.pgx")
    findings = pytest.importorskip("pmed.pgx.findings")
    genomics = pytest.importorskip("pmed.record.fhir_output.genomics")
    from pmed.record.synth import generate_cohort
    from pmed.record.synth.writer import write_cohort

    cohort = generate_cohort(2, seed=2)
    write_cohort(cohort, tmp_path, fmt="bundle", vcf="patient")
    pid = cohort.demographics["id"][0]
    [calls] = pgx.call(tmp_path / "vcf" / f"{pid}.vcf")
    subject = f"Patient/{pid}"
    observations = genomics.sample_observations(findings.gene_findings(calls, subject), subject)
    bundle = json.loads((tmp_path / "fhir" / f"{pid}.json").read_text())
    results = {r.gene: r for r in PatientRecord.from_resources([bundle, *observations])
               .genomic_results()}  # fmt: skip
    for gene in ("CYP2C19", "CYP2C9", "SLCO1B1", "VKORC1"):
        call = calls.genes[gene]
        assert results[gene].diplotype in call.diplotypes
        assert results[gene].phenotype == call.phenotype
        assert results[gene].activity_score == call.activity_score
        assert results[gene].references  # cites the Observations
