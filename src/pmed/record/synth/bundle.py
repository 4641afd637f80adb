"""FHIR R4 resources for each synthetic patient.

Per patient: Patient (US Core race/ethnicity, MRN identifier, name, address); the index-visit
Encounter (type SNOMED 162673000 "General examination of patient", tagged `urn:pmed:synth`
`index-visit`; 0-4 earlier check-up Encounters 185349003 with BP and weight); Observations at
the index date (lipid panel, BP panel 85354-9, HbA1c, creatinine, CKD-EPI 2021 eGFR, UACR,
smoking status, height, weight, BMI); Conditions present at index
(hypertension, diabetes, prediabetes, atrial fibrillation, CKD stage, prior MI) with onsets
before it; active MedicationRequests (RxNorm) for the treatments; and, for each outcome that
happened within follow-up and was recorded, an emergency/inpatient Encounter and a Condition with
its onset after the index date (MI or stroke; type 2 diabetes; heart failure). Ids are
`<patient uuid>-<suffix>` so re-writing the same seed gives the same ids; references are
`Type/id` literal references.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import numpy as np

from pmed.record.synth.cohort import SynthCohort
from pmed.record.synth.demographics import OMB

__all__ = ["patient_resources", "record_plan"]

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
UCUM = "http://unitsofmeasure.org"
OMB_SYSTEM = "urn:oid:2.16.840.1.113883.6.238"
US_CORE = "http://hl7.org/fhir/us/core/StructureDefinition/"
MRN_SYSTEM = "urn:pmed:synth:mrn"
SYNTH_TAGS = "urn:pmed:synth"
#: The index visit's Encounter.type (earlier routine visits are 185349003 "check up").
INDEX_VISIT = ("162673000", "General examination of patient (procedure)")

_CAT = "http://terminology.hl7.org/CodeSystem/observation-category"
_LAB = [{"coding": [{"system": _CAT, "code": "laboratory", "display": "Laboratory"}]}]
_VITAL = [{"coding": [{"system": _CAT, "code": "vital-signs", "display": "Vital Signs"}]}]
_SOCIAL = [{"coding": [{"system": _CAT, "code": "social-history", "display": "Social History"}]}]
_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
_VERIFY = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
_ACT = "http://terminology.hl7.org/CodeSystem/v3-ActCode"

SMOKING = {
    "never": ("266919005", "Never smoked tobacco (finding)"),
    "former": ("8517006", "Ex-smoker (finding)"),
    "current": ("449868002", "Smokes tobacco daily (finding)"),
}
ANTIHYPERTENSIVES = (
    ("314076", "lisinopril 10 MG Oral Tablet"),
    ("197361", "amlodipine 5 MG Oral Tablet"),
    ("310798", "hydrochlorothiazide 25 MG Oral Tablet"),
)
STATINS = (
    ("312961", "simvastatin 20 MG Oral Tablet"),
    ("259255", "atorvastatin 80 MG Oral Tablet"),
)
METFORMIN = ("860975", "24 HR metformin hydrochloride 500 MG Extended Release Oral Tablet")
WARFARIN = ("855332", "warfarin sodium 5 MG Oral Tablet")
OUTCOME_CONDITIONS = {
    "mi": ("22298006", "Myocardial infarction (disorder)"),
    "stroke": ("230690007", "Cerebrovascular accident (disorder)"),
    "diabetes": ("44054006", "Diabetes mellitus type 2 (disorder)"),
    "heart_failure": ("88805009", "Chronic congestive heart failure (disorder)"),
}


def record_plan(cohort: SynthCohort) -> dict[str, Any]:
    """Python-list columns for writing: dates as ISO strings, the draws writing needs (onset
    offsets, drug choices), all from a stream derived from the cohort's seed."""
    rng = np.random.default_rng(np.random.SeedSequence(cohort.seed).spawn(6)[5])
    n = cohort.size
    demo, clin = cohort.demographics, cohort.clinical
    index = demo["index_date"]

    def days_before(low: float, high: float) -> list[str]:
        offset = (rng.uniform(low, high, n) * 365.25).astype(np.int64)
        return np.datetime_as_string(index - offset, unit="D").tolist()

    plan: dict[str, Any] = {
        "index": np.datetime_as_string(index, unit="D").tolist(),
        "birth": np.datetime_as_string(demo["birth_date"], unit="D").tolist(),
        "onset_htn": days_before(0.5, 12),
        "onset_dm": days_before(0.3, 12),
        "onset_af": days_before(0.2, 8),
        "onset_mi": days_before(1, 10),
        "onset_ckd": days_before(0.2, 5),
        "rx_start": days_before(0.1, 4),
        "ahtn": rng.integers(0, len(ANTIHYPERTENSIVES), n).tolist(),
        "statin_kind": rng.integers(0, len(STATINS), n).tolist(),
    }
    for outcome in ("ascvd", "diabetes", "heart_failure"):
        years = cohort.events[f"{outcome}_years"]
        finite = np.isfinite(years) & cohort.recorded[outcome]
        days = np.where(finite, np.nan_to_num(years, posinf=0.0) * 365.25, 0).astype(np.int64)
        dates = np.datetime_as_string(index + days, unit="D").tolist()
        plan[f"event_{outcome}"] = [
            d if f else None for d, f in zip(dates, finite.tolist(), strict=True)
        ]
    for key in ("id", "mrn", "given", "family", "city", "state", "postal", "line"):
        plan[key] = list(demo[key])
    plan["sex"] = demo["sex"].tolist()
    plan["group"] = demo["group"].tolist()
    for key, values in clin.items():
        plan[key] = values.tolist()
    plan["ascvd_type"] = cohort.events["ascvd_type"].tolist()
    _plan_prior_visits(plan, rng, cohort)
    return plan


MAX_PRIOR_VISITS = 4


def _plan_prior_visits(plan: dict[str, Any], rng: np.random.Generator, cohort: SynthCohort) -> None:
    """Earlier routine visits (0-4, more with more conditions), each with a BP panel and weight
    that scatter around the index values, so the record has a history before the index date."""
    n = cohort.size
    clin = cohort.clinical
    burden = clin["hypertension"] + clin["diabetes"] + clin["af"] + clin["ckd"]
    visits = np.minimum(rng.poisson(1.0 + 0.6 * burden), MAX_PRIOR_VISITS)
    gaps = rng.uniform(0.6, 1.4, (MAX_PRIOR_VISITS, n)).cumsum(axis=0)  # years before index
    index = cohort.demographics["index_date"]
    days = np.datetime_as_string(index - (gaps * 365.25).astype(np.int64), unit="D")
    height = clin["height_cm"] / 100.0
    weight = np.round(clin["weight_kg"] + rng.normal(0.0, 2.0, (MAX_PRIOR_VISITS, n)), 1)
    plan["prior_visits"] = visits.tolist()
    plan["prior_day"] = days.T.tolist()
    plan["prior_sbp"] = np.round(clin["sbp"] + rng.normal(0, 8, (MAX_PRIOR_VISITS, n))).T.tolist()
    plan["prior_dbp"] = np.round(clin["dbp"] + rng.normal(0, 5, (MAX_PRIOR_VISITS, n))).T.tolist()
    plan["prior_weight"] = weight.T.tolist()
    plan["prior_bmi"] = np.round(weight / height**2, 1).T.tolist()


def _ref(rtype: str, rid: str) -> dict[str, str]:
    return {"reference": f"{rtype}/{rid}"}


def _concept(system: str, code: str, display: str) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code, "display": display}], "text": display}


def _quantity(value: float, unit: str) -> dict[str, Any]:
    return {"value": value, "unit": unit, "system": UCUM, "code": unit}


def _patient(p: dict[str, Any], i: int) -> dict[str, Any]:
    group = p["group"][i]
    race_code, race_display, hispanic = OMB[group]
    eth = ("2135-2", "Hispanic or Latino") if hispanic else ("2186-5", "Not Hispanic or Latino")
    return {
        "resourceType": "Patient",
        "id": p["id"][i],
        "meta": {"profile": [US_CORE + "us-core-patient"]},
        "extension": [
            {
                "url": US_CORE + "us-core-race",
                "extension": [
                    {
                        "url": "ombCategory",
                        "valueCoding": {
                            "system": OMB_SYSTEM,
                            "code": race_code,
                            "display": race_display,
                        },
                    },
                    {"url": "text", "valueString": race_display},
                ],
            },
            {
                "url": US_CORE + "us-core-ethnicity",
                "extension": [
                    {
                        "url": "ombCategory",
                        "valueCoding": {"system": OMB_SYSTEM, "code": eth[0], "display": eth[1]},
                    },
                    {"url": "text", "valueString": eth[1]},
                ],
            },
        ],
        "identifier": [
            {
                "use": "usual",
                "type": {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/v2-0203",
                            "code": "MR",
                            "display": "Medical record number",
                        }
                    ]
                },
                "system": MRN_SYSTEM,
                "value": p["mrn"][i],
            }
        ],
        "name": [{"use": "official", "family": p["family"][i], "given": [p["given"][i]]}],
        "gender": p["sex"][i],
        "birthDate": p["birth"][i],
        "address": [
            {
                "line": [p["line"][i]],
                "city": p["city"][i],
                "state": p["state"][i],
                "postalCode": p["postal"][i],
                "country": "US",
            }
        ],
    }


def _encounter(pid: str, suffix: str, day: str, klass: str, snomed: tuple[str, str]) -> dict:
    return {
        "resourceType": "Encounter",
        "id": f"{pid}-{suffix}",
        "status": "finished",
        "class": {"system": _ACT, "code": klass},
        "type": [_concept(SNOMED, *snomed)],
        "subject": _ref("Patient", pid),
        "period": {"start": f"{day}T09:00:00Z", "end": f"{day}T09:30:00Z"},
    }


def _observation(
    pid: str, suffix: str, day: str, category: list[Any], code: str, display: str, **value: Any
) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": f"{pid}-{suffix}",
        "status": "final",
        "category": category,
        "code": _concept(LOINC, code, display),
        "subject": _ref("Patient", pid),
        "encounter": _ref("Encounter", f"{pid}-enc0"),
        "effectiveDateTime": f"{day}T09:00:00Z",
        **value,
    }


def _condition(
    pid: str, suffix: str, onset: str, code: tuple[str, str], encounter: str | None = None
) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Condition",
        "id": f"{pid}-{suffix}",
        "clinicalStatus": {"coding": [{"system": _CLINICAL, "code": "active"}]},
        "verificationStatus": {"coding": [{"system": _VERIFY, "code": "confirmed"}]},
        "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-category",
                                  "code": "problem-list-item"}]}],
        "code": _concept(SNOMED, *code),
        "subject": _ref("Patient", pid),
        "onsetDateTime": f"{onset}T09:00:00Z",
        "recordedDate": f"{onset}T09:00:00Z",
    }  # fmt: skip
    if encounter:
        resource["encounter"] = _ref("Encounter", encounter)
    return resource


def _medication(pid: str, suffix: str, start: str, drug: tuple[str, str]) -> dict[str, Any]:
    return {
        "resourceType": "MedicationRequest",
        "id": f"{pid}-{suffix}",
        "status": "active",
        "intent": "order",
        "medicationCodeableConcept": _concept(RXNORM, *drug),
        "subject": _ref("Patient", pid),
        "authoredOn": f"{start}T09:00:00Z",
    }


def _later(day: str, days: int) -> str:
    return (date.fromisoformat(day) + timedelta(days=days)).isoformat()


def patient_resources(p: dict[str, Any], i: int) -> Iterator[dict[str, Any]]:
    """The resources of patient `i` of a `record_plan`, the Patient first."""
    pid, day = p["id"][i], p["index"][i]
    yield _patient(p, i)
    index_visit = _encounter(pid, "enc0", day, "AMB", INDEX_VISIT)
    index_visit["meta"] = {"tag": [{"system": SYNTH_TAGS, "code": "index-visit"}]}
    yield index_visit
    lab, vital = _LAB, _VITAL

    def q(value: float, unit: str) -> dict[str, Any]:
        return {"valueQuantity": _quantity(value, unit)}

    yield _observation(
        pid,
        "tc",
        day,
        lab,
        "2093-3",
        "Cholesterol [Mass/volume] in Serum or Plasma",
        **q(p["tc"][i], "mg/dL"),
    )
    yield _observation(pid, "hdl", day, lab, "2085-9", "HDL Cholesterol", **q(p["hdl"][i], "mg/dL"))
    yield _observation(
        pid, "ldl", day, lab, "18262-6", "LDL Cholesterol", **q(p["ldl"][i], "mg/dL")
    )
    yield _observation(pid, "tg", day, lab, "2571-8", "Triglycerides", **q(p["tg"][i], "mg/dL"))
    yield _observation(pid, "bp", day, vital, "85354-9", "Blood pressure panel", component=[
        {"code": _concept(LOINC, "8480-6", "Systolic blood pressure"),
         "valueQuantity": _quantity(p["sbp"][i], "mm[Hg]")},
        {"code": _concept(LOINC, "8462-4", "Diastolic blood pressure"),
         "valueQuantity": _quantity(p["dbp"][i], "mm[Hg]")},
    ])  # fmt: skip
    yield _observation(
        pid,
        "a1c",
        day,
        lab,
        "4548-4",
        "Hemoglobin A1c/Hemoglobin.total in Blood",
        **q(p["hba1c"][i], "%"),
    )
    yield _observation(
        pid,
        "scr",
        day,
        lab,
        "2160-0",
        "Creatinine [Mass/volume] in Serum or Plasma",
        **q(p["creatinine"][i], "mg/dL"),
    )
    yield _observation(
        pid,
        "egfr",
        day,
        lab,
        "98979-8",
        "Glomerular filtration rate/1.73 sq M.predicted (CKD-EPI 2021)",
        **q(p["egfr"][i], "mL/min/{1.73_m2}"),
    )
    yield _observation(
        pid,
        "uacr",
        day,
        lab,
        "9318-7",
        "Albumin/Creatinine [Mass Ratio] in Urine",
        **q(p["uacr"][i], "mg/g"),
    )
    smoke = SMOKING[p["smoking"][i]]
    yield _observation(
        pid,
        "smk",
        day,
        _SOCIAL,
        "72166-2",
        "Tobacco smoking status",
        valueCodeableConcept=_concept(SNOMED, *smoke),
    )
    yield _observation(pid, "ht", day, vital, "8302-2", "Body height", **q(p["height_cm"][i], "cm"))
    yield _observation(
        pid, "wt", day, vital, "29463-7", "Body weight", **q(p["weight_kg"][i], "kg")
    )
    yield _observation(pid, "bmi", day, vital, "39156-5", "Body mass index (BMI) [Ratio]",
                       **q(p["bmi"][i], "kg/m2"))  # fmt: skip

    if p["hypertension"][i]:
        yield _condition(
            pid, "htn", p["onset_htn"][i], ("59621000", "Essential hypertension (disorder)")
        )
    if p["diabetes"][i]:
        yield _condition(pid, "dm", p["onset_dm"][i], OUTCOME_CONDITIONS["diabetes"])
    if p["prediabetes"][i]:
        yield _condition(pid, "predm", p["onset_dm"][i], ("15777000", "Prediabetes (finding)"))
    if p["af"][i]:
        yield _condition(
            pid, "af", p["onset_af"][i], ("49436004", "Atrial fibrillation (disorder)")
        )
    if p["prior_ascvd"][i]:
        yield _condition(pid, "mi0", p["onset_mi"][i], OUTCOME_CONDITIONS["mi"])
    egfr = p["egfr"][i]
    if egfr < 60:
        stage = (("433146000", "Chronic kidney disease stage 5 (disorder)") if egfr < 15 else
                 ("431857002", "Chronic kidney disease stage 4 (disorder)") if egfr < 30 else
                 ("433144002", "Chronic kidney disease stage 3 (disorder)"))  # fmt: skip
        yield _condition(pid, "ckd", p["onset_ckd"][i], stage)

    start = p["rx_start"][i]
    if p["bp_treated"][i]:
        yield _medication(pid, "rx-bp", start, ANTIHYPERTENSIVES[p["ahtn"][i]])
    if p["statin"][i]:
        yield _medication(pid, "rx-statin", start, STATINS[p["statin_kind"][i]])
    if p["metformin"][i]:
        yield _medication(pid, "rx-dm", start, METFORMIN)
    if p["anticoagulant"][i]:
        yield _medication(pid, "rx-ac", start, WARFARIN)

    for k in range(p["prior_visits"][i]):
        yield from _prior_visit(p, i, k)

    ascvd = p["event_ascvd"][i]
    if ascvd is not None:
        kind = p["ascvd_type"][i] or "mi"
        yield _encounter(
            pid, "enc-cv", ascvd, "EMER", ("50849002", "Emergency room admission (procedure)")
        )
        yield _condition(pid, "cv", ascvd, OUTCOME_CONDITIONS[kind], f"{pid}-enc-cv")
    t2d = p["event_diabetes"][i]
    if t2d is not None:
        yield _encounter(
            pid, "enc-dm", t2d, "AMB", ("185345009", "Encounter for symptom (procedure)")
        )
        yield _condition(pid, "dm1", t2d, OUTCOME_CONDITIONS["diabetes"], f"{pid}-enc-dm")
        yield _medication(pid, "rx-dm1", _later(t2d, 14), METFORMIN)
    hf = p["event_heart_failure"][i]
    if hf is not None:
        yield _encounter(pid, "enc-hf", hf, "IMP", ("32485007", "Hospital admission (procedure)"))
        yield _condition(pid, "hf", hf, OUTCOME_CONDITIONS["heart_failure"], f"{pid}-enc-hf")


def _prior_visit(p: dict[str, Any], i: int, k: int) -> Iterator[dict[str, Any]]:
    pid, day = p["id"][i], p["prior_day"][i][k]
    enc = f"enc-p{k}"
    yield _encounter(pid, enc, day, "AMB", ("185349003", "Encounter for check up (procedure)"))
    bp = _observation(pid, f"bp-p{k}", day, _VITAL, "85354-9", "Blood pressure panel", component=[
        {"code": _concept(LOINC, "8480-6", "Systolic blood pressure"),
         "valueQuantity": _quantity(p["prior_sbp"][i][k], "mm[Hg]")},
        {"code": _concept(LOINC, "8462-4", "Diastolic blood pressure"),
         "valueQuantity": _quantity(p["prior_dbp"][i][k], "mm[Hg]")},
    ])  # fmt: skip
    weight = _observation(pid, f"wt-p{k}", day, _VITAL, "29463-7", "Body weight",
                          valueQuantity=_quantity(p["prior_weight"][i][k], "kg"))  # fmt: skip
    bmi = _observation(pid, f"bmi-p{k}", day, _VITAL, "39156-5", "Body mass index (BMI) [Ratio]",
                       valueQuantity=_quantity(p["prior_bmi"][i][k], "kg/m2"))  # fmt: skip
    for resource in (bp, weight, bmi):
        resource["encounter"] = _ref("Encounter", f"{pid}-{enc}")
        yield resource
