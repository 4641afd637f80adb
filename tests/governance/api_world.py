"""A small governed record for API tests: three patients, a care team, sensitive data, and
tokens for every role."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from pmed.api.app import create_app
from pmed.config import Settings
from pmed.governance import consent
from pmed.governance.testing import bearer_headers
from pmed.record.store import Store

LOINC = "http://loinc.org"


def obs(oid: str, pid: str, code: str) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": oid,
        "status": "final",
        "subject": {"reference": f"Patient/{pid}"},
        "code": {"coding": [{"system": LOINC, "code": code}]},
        "valueQuantity": {"value": 3.1, "unit": "mmol/L"},
    }


RESOURCES: list[dict[str, Any]] = [
    {"resourceType": "Organization", "id": "acme", "name": "Acme Clinic"},
    {"resourceType": "Practitioner", "id": "dr1", "name": [{"family": "One"}]},
    {"resourceType": "Practitioner", "id": "dr2", "name": [{"family": "Two"}]},
    {
        "resourceType": "Patient",
        "id": "p1",
        "gender": "female",
        "birthDate": "1960-05-01",
        "name": [{"family": "Alpha", "given": ["Ann"]}],
    },
    {
        "resourceType": "Patient",
        "id": "p2",
        "gender": "male",
        "birthDate": "1970-01-01",
        "generalPractitioner": [{"reference": "Practitioner/dr1"}],
    },
    {"resourceType": "Patient", "id": "p4", "gender": "male", "birthDate": "1980-01-01"},
    {
        "resourceType": "CareTeam",
        "id": "ct1",
        "status": "active",
        "subject": {"reference": "Patient/p1"},
        "participant": [{"member": {"reference": "Practitioner/dr1"}}],
    },
    obs("ldl1", "p1", "18262-6"),
    obs("gen1", "p1", "84413-4"),
    obs("ldl4", "p4", "18262-6"),
]

CONSENT_STATES: dict[str, list[dict[str, Any]]] = {
    "no-consent": [],
    "restrict-genomics": [{**consent.restrict_category("p1", "genomics"), "id": "c1"}],
    "deny-acme": [{**consent.deny_actor("p1", "Organization/acme"), "id": "c1"}],
}

ROLES: dict[str, dict[str, Any] | None] = {
    "anonymous": None,
    "patient-p1": {
        "role": "patient",
        "scope": "launch/patient patient/*.rs patient/Consent.cu",
        "patient": "p1",
        "fhir_user": "Patient/p1",
    },
    "patient-p4": {
        "role": "patient",
        "scope": "launch/patient patient/*.rs",
        "patient": "p4",
        "fhir_user": "Patient/p4",
    },
    "clinician-care-team": {
        "role": "clinician",
        "scope": "user/*.rs user/Observation.c",
        "fhir_user": "Practitioner/dr1",
        "extra": {"organization": "Organization/acme"},
    },
    "clinician-outsider": {
        "role": "clinician",
        "scope": "user/*.rs user/Observation.c",
        "fhir_user": "Practitioner/dr2",
        "extra": {"organization": "Organization/other"},
    },
    "clinician-break-glass": {
        "role": "clinician",
        "scope": "user/*.rs user/Observation.c",
        "fhir_user": "Practitioner/dr2",
        "extra": {"organization": "Organization/other"},
    },
    "researcher": {"role": "researcher", "scope": "system/*.rs"},
    "admin": {"role": "admin", "scope": "user/*.cruds system/*.cruds"},
}


def world(home: Path, consent_state: str = "no-consent") -> tuple[TestClient, Settings, Store]:
    settings = Settings(home=home)
    store = Store.open(settings)
    store.write_batch([*RESOURCES, *CONSENT_STATES[consent_state]])
    client = TestClient(create_app(settings, store=store))
    return client, settings, store


def headers(settings: Settings, role: str) -> dict[str, str]:
    spec = ROLES[role]
    h = {"Accept": "application/fhir+json"}
    if spec is not None:
        h.update(bearer_headers(settings, subject=role, **spec))
    if role == "clinician-break-glass":
        h["X-Break-Glass-Reason"] = "unconscious in ED, no records reachable"
    return h
