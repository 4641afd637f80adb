"""Small FHIR builders for care-plan tests: a patient, labs, conditions, medications and
pharmacogene results (Genomics Reporting IG-shaped Observations)."""

from __future__ import annotations

from typing import Any

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
AT = "2025-06-01"


def patient(pid: str = "p1", birth: str = "1963-03-01", gender: str = "female",
            race: str | None = "2106-3") -> dict[str, Any]:  # fmt: skip
    res: dict[str, Any] = {
        "resourceType": "Patient",
        "id": pid,
        "name": [{"family": "Rivera", "given": ["Ana"]}],
        "birthDate": birth,
        "gender": gender,
        "identifier": [{"system": "urn:mrn", "value": f"MRN-{pid}"}],
    }
    if race:
        res["extension"] = [
            {
                "url": "http://hl7.org/fhir/us/core/StructureDefinition/us-core-race",
                "extension": [
                    {"url": "ombCategory",
                     "valueCoding": {"system": "urn:oid:2.16.840.1.113883.6.238", "code": race}}
                ],
            }
        ]  # fmt: skip
    return res


def obs(oid: str, code: str, value: float, unit: str, pid: str = "p1",
        when: str = "2025-05-01") -> dict[str, Any]:  # fmt: skip
    return {
        "resourceType": "Observation",
        "id": oid,
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": code}]},
        "subject": {"reference": f"Patient/{pid}"},
        "effectiveDateTime": when,
        "valueQuantity": {"value": value, "unit": unit, "system": "http://unitsofmeasure.org",
                          "code": unit},
    }  # fmt: skip


def bp(oid: str, sbp: float, dbp: float, pid: str = "p1", when: str = "2025-05-01") -> dict:
    return {
        "resourceType": "Observation",
        "id": oid,
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": "85354-9"}]},
        "subject": {"reference": f"Patient/{pid}"},
        "effectiveDateTime": when,
        "component": [
            {"code": {"coding": [{"system": LOINC, "code": "8480-6"}]},
             "valueQuantity": {"value": sbp, "unit": "mm[Hg]", "code": "mm[Hg]"}},
            {"code": {"coding": [{"system": LOINC, "code": "8462-4"}]},
             "valueQuantity": {"value": dbp, "unit": "mm[Hg]", "code": "mm[Hg]"}},
        ],
    }  # fmt: skip


def smoking(oid: str, current: bool, pid: str = "p1", when: str = "2025-05-01") -> dict:
    code = "449868002" if current else "266919005"
    return {
        "resourceType": "Observation",
        "id": oid,
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": "72166-2"}]},
        "subject": {"reference": f"Patient/{pid}"},
        "effectiveDateTime": when,
        "valueCodeableConcept": {"coding": [{"system": SNOMED, "code": code}]},
    }


def condition(cid: str, snomed: str, pid: str = "p1", onset: str = "2020-01-01") -> dict:
    return {
        "resourceType": "Condition",
        "id": cid,
        "clinicalStatus": {"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
            "code": "active"}]},
        "code": {"coding": [{"system": SNOMED, "code": snomed}]},
        "subject": {"reference": f"Patient/{pid}"},
        "onsetDateTime": onset,
    }  # fmt: skip


def med(mid: str, rxnorm: str, display: str, pid: str = "p1", status: str = "active",
        mg: float | None = None, per_day: int = 1, when: str = "2024-01-01") -> dict:  # fmt: skip
    res: dict[str, Any] = {
        "resourceType": "MedicationRequest",
        "id": mid,
        "status": status,
        "intent": "order",
        "medicationCodeableConcept": {
            "coding": [{"system": RXNORM, "code": rxnorm, "display": display}],
            "text": display,
        },
        "subject": {"reference": f"Patient/{pid}"},
        "authoredOn": when,
    }
    if mg is not None:
        res["dosageInstruction"] = [
            {"timing": {"repeat": {"frequency": per_day, "period": 1, "periodUnit": "d"}},
             "doseAndRate": [{"doseQuantity": {"value": mg, "unit": "mg", "code": "mg",
                                               "system": "http://unitsofmeasure.org"}}]}
        ]  # fmt: skip
    return res


def gene(gid: str, symbol: str, diplotype: str | None, phenotype: str | None,
         activity: str | None = None, pid: str = "p1") -> list[dict]:  # fmt: skip
    """A genotype and a phenotype Observation for one gene."""
    gene_comp = {
        "code": {"coding": [{"system": LOINC, "code": "48018-6", "display": "Gene studied [ID]"}]},
        "valueCodeableConcept": {"coding": [{"system": "http://www.genenames.org/geneId",
                                             "code": "HGNC:0", "display": symbol}]},
    }  # fmt: skip
    out = []
    if diplotype:
        out.append({
            "resourceType": "Observation", "id": f"{gid}-gt", "status": "final",
            "code": {"coding": [{"system": LOINC, "code": "84413-4"}]},
            "subject": {"reference": f"Patient/{pid}"},
            "effectiveDateTime": "2024-02-01",
            "valueCodeableConcept": {"text": f"{symbol} {diplotype}"},
            "component": [gene_comp],
        })  # fmt: skip
    if phenotype:
        comps = [gene_comp]
        if activity:
            comps.append({"code": {"text": "activity score"}, "valueString": activity})
        out.append({
            "resourceType": "Observation", "id": f"{gid}-ph", "status": "final",
            "code": {"coding": [{"system": LOINC, "code": "53040-2"}]},
            "subject": {"reference": f"Patient/{pid}"},
            "effectiveDateTime": "2024-02-01",
            "valueCodeableConcept": {"text": phenotype},
            "component": comps,
        })  # fmt: skip
    return out


def cardiometabolic(pid: str = "p1") -> list[dict]:
    """A 62-year-old white woman: AF, hypertension on lisinopril, clopidogrel and simvastatin
    active, SLCO1B1 poor function, CYP2C19 poor metabolizer, CYP2C9 *1/*3, VKORC1 A/G,
    eGFR ~40, LDL 160, BMI 31."""
    return [
        patient(pid),
        obs("tc", "2093-3", 240, "mg/dL", pid),
        obs("hdl", "2085-9", 45, "mg/dL", pid),
        obs("ldl", "18262-6", 160, "mg/dL", pid),
        obs("scr", "2160-0", 1.45, "mg/dL", pid),
        obs("a1c", "4548-4", 5.9, "%", pid),
        obs("ht", "8302-2", 165, "cm", pid),
        obs("wt", "29463-7", 85, "kg", pid),
        obs("waist", "8280-0", 96, "cm", pid),
        bp("bp", 150, 90, pid),
        smoking("smk", False, pid),
        condition("af", "49436004", pid),
        condition("htn", "38341003", pid),
        med("lis", "29046", "lisinopril 10 MG Oral Tablet", pid),
        med("clo", "32968", "clopidogrel 75 MG Oral Tablet", pid),
        *gene("slco", "SLCO1B1", "*5/*5", "Poor Function", pid=pid),
        *gene("c19", "CYP2C19", "*2/*2", "Poor Metabolizer", pid=pid),
        *gene("c9", "CYP2C9", "*1/*3", "Intermediate Metabolizer", "1.0", pid=pid),
        *gene("vk", "VKORC1", "rs9923231 reference (C)/rs9923231 variant (T)", None, pid=pid),
    ]
