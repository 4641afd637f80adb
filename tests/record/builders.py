"""Small builders for FHIR resources used across the record tests."""

from __future__ import annotations

import uuid
from typing import Any

LOINC = "http://loinc.org"


def patient(
    pid: str,
    family: str = "Smith",
    given: str = "Ann",
    birth: str = "1970-05-02",
    gender: str = "female",
) -> dict[str, Any]:
    return {
        "resourceType": "Patient",
        "id": pid,
        "name": [{"family": family, "given": [given]}],
        "birthDate": birth,
        "gender": gender,
        "identifier": [{"system": "urn:mrn", "value": f"MRN-{pid}"}],
    }


def observation(
    oid: str,
    pid: str,
    code: str,
    when: str,
    value: float,
    unit: str = "mg/dL",
    category: str = "laboratory",
) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": oid,
        "status": "final",
        "category": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                        "code": category,
                    }
                ]
            }
        ],
        "code": {"coding": [{"system": LOINC, "code": code}]},
        "subject": {"reference": f"Patient/{pid}"},
        "effectiveDateTime": when,
        "valueQuantity": {
            "value": value,
            "unit": unit,
            "system": "http://unitsofmeasure.org",
            "code": unit,
        },
    }


def condition(cid: str, pid: str, snomed: str, onset: str) -> dict[str, Any]:
    return {
        "resourceType": "Condition",
        "id": cid,
        "clinicalStatus": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                    "code": "active",
                }
            ]
        },
        "code": {"coding": [{"system": "http://snomed.info/sct", "code": snomed}]},
        "subject": {"reference": f"Patient/{pid}"},
        "onsetDateTime": onset,
    }


def urn(resource_id: str) -> str:
    """A stable `urn:uuid:` fullUrl for a test resource id."""
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, resource_id)}"


def transaction(*resources: dict[str, Any], method: str = "POST") -> dict[str, Any]:
    """A transaction bundle whose entries use urn:uuid fullUrls built from each id."""
    return {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "fullUrl": urn(r["id"]),
                "resource": r,
                "request": {"method": method, "url": r["resourceType"]},
            }
            for r in resources
        ],
    }
