"""Small builders for hand-made FHIR resources: a patient and the events of their record."""

from __future__ import annotations

from typing import Any

SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
US_CORE = "http://hl7.org/fhir/us/core/StructureDefinition/"
RACE = {"white": "2106-3", "black": "2054-5", "asian": "2028-9"}


def patient(
    pid: str, birth: str, sex: str, race: str = "white", deceased: str | None = None
) -> dict[str, Any]:
    res: dict[str, Any] = {
        "resourceType": "Patient",
        "id": pid,
        "birthDate": birth,
        "gender": sex,
        "extension": [
            {
                "url": US_CORE + "us-core-race",
                "extension": [
                    {
                        "url": "ombCategory",
                        "valueCoding": {
                            "system": "urn:oid:2.16.840.1.113883.6.238",
                            "code": RACE[race],
                        },
                    },
                    {"url": "text", "valueString": race},
                ],
            },
            {
                "url": US_CORE + "us-core-ethnicity",
                "extension": [{"url": "ombCategory", "valueCoding": {"code": "2186-5"}}],
            },
        ],
    }
    if deceased:
        res["deceasedDateTime"] = deceased
    return res


def condition(rid: str, pid: str, code: str, onset: str, system: str = SNOMED) -> dict[str, Any]:
    return {
        "resourceType": "Condition",
        "id": rid,
        "subject": {"reference": f"Patient/{pid}"},
        "code": {"coding": [{"system": system, "code": code}]},
        "onsetDateTime": onset,
    }


def observation(
    rid: str, pid: str, code: str, value: float, unit: str, when: str
) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": rid,
        "status": "final",
        "subject": {"reference": f"Patient/{pid}"},
        "code": {"coding": [{"system": LOINC, "code": code}]},
        "effectiveDateTime": when,
        "valueQuantity": {
            "value": value,
            "unit": unit,
            "system": "http://unitsofmeasure.org",
            "code": unit,
        },
    }


def blood_pressure(rid: str, pid: str, sbp: float, dbp: float, when: str) -> dict[str, Any]:
    def comp(code: str, v: float) -> dict[str, Any]:
        return {
            "code": {"coding": [{"system": LOINC, "code": code}]},
            "valueQuantity": {"value": v, "unit": "mm[Hg]", "code": "mm[Hg]"},
        }

    return {
        "resourceType": "Observation",
        "id": rid,
        "status": "final",
        "subject": {"reference": f"Patient/{pid}"},
        "code": {"coding": [{"system": LOINC, "code": "85354-9"}]},
        "effectiveDateTime": when,
        "component": [comp("8480-6", sbp), comp("8462-4", dbp)],
    }


def medication(rid: str, pid: str, rxnorm: str, when: str) -> dict[str, Any]:
    return {
        "resourceType": "MedicationRequest",
        "id": rid,
        "status": "active",
        "intent": "order",
        "subject": {"reference": f"Patient/{pid}"},
        "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": rxnorm}]},
        "authoredOn": when,
    }


def encounter(rid: str, pid: str, start: str) -> dict[str, Any]:
    return {
        "resourceType": "Encounter",
        "id": rid,
        "status": "finished",
        "class": {"code": "AMB"},
        "subject": {"reference": f"Patient/{pid}"},
        "period": {"start": start, "end": start},
    }
