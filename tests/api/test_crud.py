"""Create, read, vread, update (If-Match), delete and history over real HTTP, with ETags."""

from __future__ import annotations

import pytest

from tests.api.conftest import Api, assert_outcome

ALICE = {
    "resourceType": "Patient",
    "name": [{"family": "Liddell", "given": ["Alice"]}],
    "gender": "female",
    "birthDate": "1852-05-04",
}


def test_create_answers_201_with_location_etag_and_a_server_id(api: Api) -> None:
    response = api.client.post("/Patient", json={**ALICE, "id": "client-chosen"})
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["id"] != "client-chosen"
    assert body["meta"]["versionId"] == "1"
    assert response.headers["etag"] == 'W/"1"'
    assert response.headers["location"] == f"{api.base}/Patient/{body['id']}/_history/1"
    assert response.headers["content-type"].startswith("application/fhir+json")
    assert "last-modified" in response.headers


def test_versions_round_trip_through_update_vread_history_and_delete(api: Api) -> None:
    pid = api.client.post("/Patient", json=ALICE).json()["id"]
    v1 = api.client.get(f"/Patient/{pid}")
    assert v1.status_code == 200 and v1.headers["etag"] == 'W/"1"'

    changed = {**v1.json(), "gender": "other"}
    v2 = api.client.put(f"/Patient/{pid}", json=changed, headers={"If-Match": 'W/"1"'})
    assert v2.status_code == 200, v2.text
    assert v2.headers["etag"] == 'W/"2"' and v2.json()["gender"] == "other"

    stale = api.client.put(f"/Patient/{pid}", json=changed, headers={"If-Match": 'W/"1"'})
    assert_outcome(stale, 412, code="conflict")

    old = api.client.get(f"/Patient/{pid}/_history/1")
    assert old.status_code == 200 and old.json()["gender"] == "female"
    assert old.headers["etag"] == 'W/"1"'

    assert api.client.delete(f"/Patient/{pid}").status_code == 204
    assert_outcome(api.client.get(f"/Patient/{pid}"), 410, code="deleted")

    history = api.client.get(f"/Patient/{pid}/_history").json()
    assert history["type"] == "history" and history["total"] == 3
    methods = [e["request"]["method"] for e in history["entry"]]
    assert methods == ["DELETE", "PUT", "POST"]  # newest first
    assert [e["response"]["etag"] for e in history["entry"]] == ['W/"3"', 'W/"2"', 'W/"1"']
    assert "resource" not in history["entry"][0]


def test_update_at_a_new_id_creates_it(api: Api) -> None:
    response = api.client.put("/Patient/alice-1", json={**ALICE, "id": "alice-1"})
    assert response.status_code == 201
    assert response.headers["location"].endswith("/Patient/alice-1/_history/1")
    again = api.client.put("/Patient/alice-1", json={**ALICE, "id": "alice-1"})
    assert again.status_code == 200
    assert again.headers["etag"] == 'W/"1"'  # same content: no new version


def test_if_match_on_a_missing_resource_is_412(api: Api) -> None:
    response = api.client.put(
        "/Patient/ghost-1", json={**ALICE, "id": "ghost-1"}, headers={"If-Match": 'W/"1"'}
    )
    assert_outcome(response, 412)


def test_conditional_read_answers_304_when_unchanged(api: Api) -> None:
    pid = api.client.post("/Patient", json=ALICE).json()["id"]
    response = api.client.get(f"/Patient/{pid}", headers={"If-None-Match": 'W/"1"'})
    assert response.status_code == 304 and response.content == b""


def test_conditional_create_with_if_none_exist_reuses_the_match(api: Api) -> None:
    patient = {**ALICE, "identifier": [{"system": "urn:test", "value": "cond-1"}]}
    first = api.client.post(
        "/Patient", json=patient, headers={"If-None-Exist": "identifier=urn:test|cond-1"}
    )
    second = api.client.post(
        "/Patient", json=patient, headers={"If-None-Exist": "identifier=urn:test|cond-1"}
    )
    assert first.status_code == 201 and second.status_code == 200
    assert first.json()["id"] == second.json()["id"]


def test_prefer_return_minimal_sends_no_body(api: Api) -> None:
    response = api.client.post("/Patient", json=ALICE, headers={"Prefer": "return=minimal"})
    assert response.status_code == 201 and response.content == b""
    assert response.headers["location"]


@pytest.mark.parametrize("media", ["application/json", "application/fhir+json; charset=utf-8"])
def test_json_request_media_types_are_accepted(api: Api, media: str) -> None:
    import json

    response = api.client.post(
        "/Patient", content=json.dumps(ALICE).encode(), headers={"Content-Type": media}
    )
    assert response.status_code == 201, response.text
