"""A small hand-built record whose search answers are worked out by hand in the tests.

Observation dates (what each one covers, FHIR R4 search.html#date):
  o1 2020-01-01T10:00:00Z (one second)     o5 2019-12-31 (a day)
  o2 2021-06-15 (a day)                    o6 2023-01-01 (a day)
  o3 2021-06-15T08:30:00Z (one second)     o7 2021 (the whole year)
  o4 2022-03-01 (a day)                    o8 Period 2020-01-01 .. 2020-12-31
o7's code 2093-3 is a SNOMED-system code (same code, other system) so `system|code` matters.
"""

from __future__ import annotations

from typing import Any

import httpx

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"


def patient(
    pid: str, family: str, given: str, gender: str, birth: str, mrn: tuple[str, str]
) -> dict[str, Any]:
    return {
        "resourceType": "Patient",
        "id": pid,
        "identifier": [{"system": mrn[0], "value": mrn[1]}],
        "name": [{"family": family, "given": [given]}],
        "gender": gender,
        "birthDate": birth,
    }


def observation(
    oid: str, pid: str, code: str, when: Any, category: str = "laboratory", system: str = LOINC
) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "id": oid,
        "status": "final",
        "category": [{"coding": [{"system": CATEGORY, "code": category}]}],
        "code": {"coding": [{"system": system, "code": code}]},
        "subject": {"reference": f"Patient/{pid}"},
    }
    if isinstance(when, dict):
        resource["effectivePeriod"] = when
    else:
        resource["effectiveDateTime"] = when
    return resource


PATIENTS = [
    patient("p1", "Smith", "Alice", "female", "1980-05-01", ("urn:mrn", "A1")),
    patient("p2", "Smith", "Bob", "male", "1975-12-31", ("urn:mrn", "B2")),
    patient("p3", "Núñez", "José", "other", "2001-01-15", ("urn:other", "A1")),
    patient("p4", "Ivanov", "Dmitri", "male", "1980", ("urn:mrn", "D4")),
]
OBSERVATIONS = [
    observation("o1", "p1", "2093-3", "2020-01-01T10:00:00Z"),
    observation("o2", "p1", "2093-3", "2021-06-15"),
    observation("o3", "p1", "8480-6", "2021-06-15T08:30:00Z", category="vital-signs"),
    observation("o4", "p1", "4548-4", "2022-03-01"),
    observation("o5", "p2", "2093-3", "2019-12-31"),
    observation("o6", "p2", "8480-6", "2023-01-01", category="vital-signs"),
    observation("o7", "p3", "2093-3", "2021", system=SNOMED),
    observation(
        "o8", "p3", "8867-4", {"start": "2020-01-01", "end": "2020-12-31"}, category="vital-signs"
    ),
]
OTHERS: list[dict[str, Any]] = [
    {
        "resourceType": "Condition",
        "id": "c1",
        "code": {"coding": [{"system": SNOMED, "code": "44054006"}]},
        "subject": {"reference": "Patient/p1"},
    },
    {
        "resourceType": "Condition",
        "id": "c2",
        "code": {"coding": [{"system": SNOMED, "code": "38341003"}]},
        "subject": {"reference": "Patient/p2"},
    },
    {
        "resourceType": "MedicationRequest",
        "id": "m1",
        "status": "active",
        "intent": "order",
        "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": "860975"}]},
        "subject": {"reference": "Patient/p1"},
    },
    {
        "resourceType": "Encounter",
        "id": "e1",
        "status": "finished",
        "class": {"code": "AMB"},
        "subject": {"reference": "Patient/p1"},
    },
    {"resourceType": "Organization", "id": "org1", "name": "General Hospital"},
]
ALL = PATIENTS + OBSERVATIONS + OTHERS

# Patient p1's compartment, exactly.
P1_COMPARTMENT = {
    ("Patient", "p1"),
    ("Observation", "o1"),
    ("Observation", "o2"),
    ("Observation", "o3"),
    ("Observation", "o4"),
    ("Condition", "c1"),
    ("MedicationRequest", "m1"),
    ("Encounter", "e1"),
}


def load(client: httpx.Client) -> None:
    """PUT every resource at its id (update-as-create)."""
    for resource in ALL:
        url = f"/{resource['resourceType']}/{resource['id']}"
        response = client.put(url, json=resource)
        assert response.status_code in (200, 201), response.text
