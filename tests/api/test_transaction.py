"""Transaction and batch Bundles POSTed at the base URL."""

from __future__ import annotations

from typing import Any

from tests.api.conftest import Api, assert_outcome, ids

PATIENT_URN = "urn:uuid:7b0b6f1e-4a9a-4f7e-9a53-0c5d9f3e1a01"


def transaction(kind: str = "transaction") -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": kind,
        "entry": [
            {
                "fullUrl": PATIENT_URN,
                "resource": {
                    "resourceType": "Patient",
                    "identifier": [{"system": "urn:tx", "value": "T1"}],
                    "name": [{"family": "Transact"}],
                },
                "request": {"method": "POST", "url": "Patient"},
            },
            {
                "fullUrl": "urn:uuid:7b0b6f1e-4a9a-4f7e-9a53-0c5d9f3e1a02",
                "resource": {
                    "resourceType": "Observation",
                    "status": "final",
                    "code": {"coding": [{"system": "http://loinc.org", "code": "2093-3"}]},
                    "subject": {"reference": PATIENT_URN},
                    "effectiveDateTime": "2024-01-01",
                },
                "request": {"method": "POST", "url": "Observation"},
            },
        ],
    }


def test_transaction_creates_all_entries_and_resolves_urn_references(api: Api) -> None:
    response = api.client.post("/", json=transaction())
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["resourceType"] == "Bundle" and body["type"] == "transaction-response"
    assert len(body["entry"]) == 2
    assert all(e["response"]["status"].startswith("201") for e in body["entry"])
    patient_location = body["entry"][0]["response"]["location"]
    patient_id = patient_location.split("/")[1]
    observations = api.client.get(f"/Observation?patient={patient_id}").json()
    assert len(ids(observations)) == 1
    stored = observations["entry"][0]["resource"]
    assert stored["subject"]["reference"] == f"Patient/{patient_id}"


def test_batch_answers_a_batch_response(api: Api) -> None:
    response = api.client.post("/", json=transaction("batch"))
    assert response.status_code == 200, response.text
    assert response.json()["type"] == "batch-response"


def test_transaction_with_a_dangling_reference_writes_nothing(api: Api) -> None:
    before = api.client.get("/Observation?_summary=count").json()["total"]
    bundle = transaction()
    bundle["entry"][1]["resource"]["subject"] = {
        "reference": "urn:uuid:00000000-0000-0000-0000-00000000dead"
    }
    bundle["entry"][0]["resource"]["identifier"][0]["value"] = "T-dangling"
    response = api.client.post("/", json=bundle)
    assert_outcome(response, 400)
    assert api.client.get("/Observation?_summary=count").json()["total"] == before
    assert api.client.get("/Patient?identifier=urn:tx|T-dangling").json()["total"] == 0


def test_transaction_with_an_invalid_resource_is_rejected_with_its_path(api: Api) -> None:
    bundle = transaction()
    bundle["entry"][1]["resource"]["status"] = 12
    response = api.client.post("/", json=bundle)
    assert_outcome(response, 400)
