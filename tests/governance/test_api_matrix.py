"""The authorization matrix: every role × every route × every consent state, each cell asserted.

A cell is the HTTP status, and for searches and $everything the number of resources returned
(`200:n`). 404 where relationship or consent forbids a read: a refusal reads exactly like
absence. 403 where the token's scopes or role forbid the kind of request. 401 without a token.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.governance.api_world import ROLES, headers, world

ROUTES = [
    "read-patient",
    "read-ldl",
    "read-genomic",
    "search-obs",
    "everything",
    "create-obs",
    "access-log",
]

# Rows in ROLES order; columns in ROUTES order.
MATRIX = {
    "no-consent": """
        anonymous              401    401 401 401   401   401 401
        patient-p1             200    200 200 200:2 200:4 403 200
        patient-p4             404    404 404 200:0 404   403 404
        clinician-care-team    200    200 200 200:2 200:4 201 404
        clinician-outsider     404    404 404 200:0 404   404 404
        clinician-break-glass  200    200 200 200:2 200:4 201 404
        researcher             403    403 403 403   403   403 404
        admin                  200    200 200 200:2 200:4 201 200
    """,
    "restrict-genomics": """
        anonymous              401    401 401 401   401   401 401
        patient-p1             200    200 200 200:2 200:5 403 200
        patient-p4             404    404 404 200:0 404   403 404
        clinician-care-team    200    200 404 200:1 200:4 201 404
        clinician-outsider     404    404 404 200:0 404   404 404
        clinician-break-glass  200    200 200 200:2 200:5 201 404
        researcher             403    403 403 403   403   403 404
        admin                  200    200 404 200:1 200:4 201 200
    """,
    "deny-acme": """
        anonymous              401    401 401 401   401   401 401
        patient-p1             200    200 200 200:2 200:5 403 200
        patient-p4             404    404 404 200:0 404   403 404
        clinician-care-team    404    404 404 200:0 404   404 404
        clinician-outsider     404    404 404 200:0 404   404 404
        clinician-break-glass  200    200 200 200:2 200:5 201 404
        researcher             403    403 403 403   403   403 404
        admin                  200    200 200 200:2 200:5 201 200
    """,
}


def parse(table: str) -> dict[str, list[str]]:
    rows = {}
    for line in table.strip().splitlines():
        role, *cells = line.split()
        assert len(cells) == len(ROUTES), line
        rows[role] = cells
    assert list(rows) == list(ROLES)
    return rows


NEW_OBS = {
    "resourceType": "Observation",
    "status": "final",
    "subject": {"reference": "Patient/p1"},
    "code": {"coding": [{"system": "http://loinc.org", "code": "2093-3"}]},
}


@pytest.mark.parametrize("state", list(MATRIX))
def test_authorization_matrix(state: str, tmp_path: Path) -> None:
    client, settings, store = world(tmp_path / "home", state)
    expected = parse(MATRIX[state])
    failures = []
    for role in ROLES:
        h = headers(settings, role)
        for route, want in zip(ROUTES, expected[role], strict=True):
            if route == "read-patient":
                r = client.get("/Patient/p1", headers=h)
            elif route == "read-ldl":
                r = client.get("/Observation/ldl1", headers=h)
            elif route == "read-genomic":
                r = client.get("/Observation/gen1", headers=h)
            elif route == "search-obs":
                r = client.get("/Observation", params={"patient": "p1"}, headers=h)
            elif route == "everything":
                r = client.get("/Patient/p1/$everything", headers=h)
            elif route == "create-obs":
                r = client.post(
                    "/Observation",
                    json=NEW_OBS,
                    headers={**h, "Content-Type": "application/fhir+json"},
                )
                if r.status_code == 201:
                    store.delete("Observation", r.json()["id"])  # keep counts stable
            else:
                r = client.get("/Patient/p1/$access-log", headers=h)
            got = str(r.status_code)
            if want.startswith("200:") and r.status_code == 200:
                entries = r.json().get("entry", [])
                matches = [
                    e for e in entries if e.get("search", {}).get("mode", "match") == "match"
                ]
                got = f"200:{len(matches)}"
            if got != want:
                failures.append(f"{role} {route}: got {got}, want {want}")
            if r.status_code == 404:
                assert r.json()["resourceType"] == "OperationOutcome"
            if r.status_code == 401:
                assert r.headers["www-authenticate"].startswith("Bearer")
    assert not failures, "\n".join(failures)
