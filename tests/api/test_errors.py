"""Every error path answers an OperationOutcome with the right status, never the catch-all 500."""

from __future__ import annotations

import logging

import pytest

from tests.api.conftest import Api, assert_outcome

PATIENT = {"resourceType": "Patient", "id": "e-1", "gender": "female"}


@pytest.fixture(scope="module", autouse=True)
def record(api: Api) -> None:
    assert api.client.put("/Patient/e-1", json=PATIENT).status_code in (200, 201)


@pytest.mark.parametrize(
    ("method", "url", "kwargs", "status", "code"),
    [
        # unknown things
        ("GET", "/Patient/no-such-id", {}, 404, "not-found"),
        ("GET", "/Spaceship/1", {}, 404, "not-found"),
        ("GET", "/Spaceship?name=x", {}, 404, "not-found"),
        ("POST", "/Spaceship", {"json": {"resourceType": "Spaceship"}}, 404, "not-found"),
        ("GET", "/Patient/e-1/_history/99", {}, 404, "not-found"),
        ("GET", "/Patient/e-1/_history/abc", {}, 404, "not-found"),
        ("GET", "/Patient/no-such-id/_history", {}, 404, "not-found"),
        ("DELETE", "/Patient/no-such-id", {}, 404, "not-found"),
        ("GET", "/no/such/endpoint/at/all", {}, 404, "not-found"),
        ("GET", "/$export-status/0123456789abcdef0123456789abcdef", {}, 404, "not-found"),
        ("GET", "/$export-status/not-a-job", {}, 404, "not-found"),
        # malformed bodies
        ("POST", "/Patient", {"content": b"{not json"}, 400, "structure"),
        ("POST", "/Patient", {"content": b""}, 400, "required"),
        ("POST", "/Patient", {"content": b"[1, 2]"}, 400, "structure"),
        ("POST", "/Patient", {"json": {"gender": "female"}}, 400, "required"),
        ("POST", "/Patient", {"content": b"\xff\xfe\x00"}, 400, "structure"),
        ("POST", "/Patient", {"json": {"resourceType": "Observation"}}, 400, "invalid"),
        ("PUT", "/Patient/e-1", {"json": {"resourceType": "Observation", "id": "e-1"}}, 400, None),
        ("PUT", "/Patient/e-1", {"json": {"resourceType": "Patient", "id": "other"}}, 400, None),
        ("PUT", "/Patient/e-1", {"json": {"resourceType": "Patient"}}, 400, None),
        (
            "PUT",
            "/Patient/bad$id",
            {"json": {"resourceType": "Patient", "id": "bad$id"}},
            400,
            None,
        ),
        (
            "POST",
            "/Patient",
            {"content": b"<Patient/>", "headers": {"Content-Type": "application/fhir+xml"}},
            415,
            "not-supported",
        ),
        # bad search and paging parameters
        ("GET", "/Patient?birthdate=notadate", {}, 400, "invalid"),
        ("GET", "/Patient?_count=-1", {}, 400, "invalid"),
        ("GET", "/Patient?_count=many", {}, 400, "invalid"),
        ("GET", "/Patient?_getpagesoffset=x", {}, 400, "invalid"),
        ("GET", "/Patient?_sort=shoe-size", {}, 400, "invalid"),
        ("GET", "/Patient?_summary=text", {}, 400, "invalid"),
        ("GET", "/Patient?_total=sometimes", {}, 400, "invalid"),
        ("GET", "/Patient?name:fuzzy=x", {}, 400, "invalid"),
        ("GET", "/Patient?name=", {}, 400, "invalid"),
        ("GET", "/Observation?value-quantity=gtabc", {}, 400, "invalid"),
        ("POST", "/Patient/_search", {"json": {"name": "x"}}, 415, "not-supported"),
        # content negotiation
        ("GET", "/Patient/e-1?_format=xml", {}, 406, "not-supported"),
        ("GET", "/Patient/e-1", {"headers": {"Accept": "application/fhir+xml"}}, 406, None),
        # methods not allowed
        ("PATCH", "/Patient/e-1", {"json": {}}, 405, "not-supported"),
        ("DELETE", "/Patient", {}, 405, "not-supported"),
        # transaction endpoint
        ("POST", "/", {"json": {"resourceType": "Patient"}}, 400, "invalid"),
        ("POST", "/", {"json": {"resourceType": "Bundle", "type": "searchset"}}, 400, "invalid"),
        ("POST", "/", {"content": b"{]"}, 400, "structure"),
        # bulk export kick-off
        ("GET", "/$export", {}, 400, None),
        (
            "GET",
            "/$export",
            {"headers": {"Prefer": "respond-async"}, "params": {"_type": "Nope"}},
            400,
            None,
        ),
        (
            "GET",
            "/$export",
            {"headers": {"Prefer": "respond-async"}, "params": {"_since": "yesterday"}},
            400,
            None,
        ),
        (
            "GET",
            "/$export",
            {"headers": {"Prefer": "respond-async"}, "params": {"_outputFormat": "csv"}},
            400,
            None,
        ),
        (
            "GET",
            "/$export",
            {"headers": {"Prefer": "respond-async"}, "params": {"_typeFilter": "x"}},
            400,
            None,
        ),
        ("GET", "/$export-files/0123456789abcdef0123456789abcdef/Patient.ndjson", {}, 404, None),
    ],
)
def test_error_is_an_operation_outcome_with_the_right_status(
    api: Api,
    unexpected_errors: list[logging.LogRecord],
    method: str,
    url: str,
    kwargs: dict,
    status: int,
    code: str | None,
) -> None:
    response = api.client.request(method, url, **kwargs)
    assert_outcome(response, status, code=code)
    assert unexpected_errors == []


def test_deleted_resource_reads_410_and_its_deletion_version_too(api: Api) -> None:
    api.client.put("/Patient/e-gone", json={"resourceType": "Patient", "id": "e-gone"})
    assert api.client.delete("/Patient/e-gone").status_code == 204
    assert_outcome(api.client.get("/Patient/e-gone"), 410, code="deleted")
    assert_outcome(api.client.get("/Patient/e-gone/_history/2"), 410, code="deleted")
    assert api.client.delete("/Patient/e-gone").status_code == 204  # idempotent


def test_validation_failure_names_the_element_path(api: Api) -> None:
    bad = {"resourceType": "Observation", "status": 5, "code": {"text": "x"}}
    response = api.client.post("/Observation", json=bad)
    message = assert_outcome(response, 400)
    issue = response.json()["issue"][0]
    assert issue["expression"] == ["Observation.status"]
    assert "status" in message


def test_validation_applies_to_update_too(api: Api) -> None:
    response = api.client.put(
        "/Patient/e-1", json={"resourceType": "Patient", "id": "e-1", "birthDate": "yesterday"}
    )
    assert_outcome(response, 400)
    assert response.json()["issue"][0]["expression"] == ["Patient.birthDate"]


def test_unknown_element_is_rejected(api: Api) -> None:
    response = api.client.post("/Patient", json={"resourceType": "Patient", "shoeSize": 42})
    assert_outcome(response, 400)


def test_a_true_bug_becomes_a_500_operation_outcome(
    api: Api, unexpected_errors: list[logging.LogRecord], monkeypatch: pytest.MonkeyPatch
) -> None:
    from pmed.api.access import AccessContext

    def broken(self: AccessContext, rtype: str, rid: str) -> dict:
        raise KeyError("simulated bug")

    monkeypatch.setattr(AccessContext, "read", broken)
    logging.getLogger("pmed.api").disabled = False
    response = api.client.get("/Patient/e-1")
    message = assert_outcome(response, 500, code="exception")
    assert "bug" in message
    assert len(unexpected_errors) == 1
