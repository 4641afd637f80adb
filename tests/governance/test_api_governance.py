"""Governance over HTTP: authentication, break-the-glass, the access log, ledger proofs,
consent management by patients, researchers' de-identified exports, and bad input."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path

import orjson
import pytest

from pmed.governance import merkle
from pmed.governance.api_access import GovernanceState
from pmed.governance.config import GovernanceConfig
from pmed.governance.testing import bearer_headers
from tests.governance.api_world import headers, world


@pytest.fixture
def api(tmp_path: Path):  # type: ignore[no-untyped-def]
    return world(tmp_path / "home")


def test_no_token_bad_tokens_and_alg_none_get_401_with_a_challenge(api) -> None:  # type: ignore[no-untyped-def]
    client, settings, _ = api
    assert client.get("/Patient/p1").status_code == 401
    for value in ("Bearer", "Bearer garbage", "Basic dXNlcjpwYXNz", "Bearer a.b.c"):
        r = client.get("/Patient/p1", headers={"Authorization": value})
        assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Bearer")
        assert r.json()["issue"][0]["code"] == "login"
    good = headers(settings, "admin")["Authorization"].split()[1]
    _, p, _ = good.split(".")
    none = base64.urlsafe_b64encode(b'{"alg":"none","kid":"x"}').rstrip(b"=").decode()
    assert (
        client.get("/Patient/p1", headers={"Authorization": f"Bearer {none}.{p}."}).status_code
        == 401
    )
    expired = bearer_headers(
        settings, role="admin", scope="user/*.rs", extra={"exp": int(time.time()) - 100}
    )
    r = client.get("/Patient/p1", headers=expired)
    assert r.status_code == 401 and "expired" in r.json()["issue"][0]["diagnostics"]


def test_discovery_documents_and_metadata_are_public(api) -> None:  # type: ignore[no-untyped-def]
    client, _, _ = api
    smart = client.get("/.well-known/smart-configuration")
    assert smart.status_code == 200
    body = smart.json()
    assert (
        body["jwks_uri"].endswith("/.well-known/jwks.json")
        and "permission-v2" in body["capabilities"]
    )
    keys = client.get("/.well-known/jwks.json").json()["keys"]
    assert keys and keys[0]["kty"] == "OKP"
    assert client.get("/metadata").status_code == 200


def test_break_the_glass_is_allowed_ledgered_with_its_reason_and_shown_to_the_patient(api) -> None:  # type: ignore[no-untyped-def]
    client, settings, _ = api
    assert (
        client.get("/Observation/ldl1", headers=headers(settings, "clinician-outsider")).status_code
        == 404
    )
    assert (
        client.get(
            "/Observation/ldl1", headers=headers(settings, "clinician-break-glass")
        ).status_code
        == 200
    )
    log = client.get("/Patient/p1/$access-log", headers=headers(settings, "patient-p1")).json()
    events = [e["resource"] for e in log["entry"]]
    btg = next(e for e in events if e["subtype"][0]["code"] == "break-the-glass")
    assert btg["purposeOfEvent"][0]["coding"][0]["code"] == "ETREAT"
    assert btg["purposeOfEvent"][0]["text"] == "unconscious in ED, no records reachable"
    assert btg["agent"][0]["who"]["identifier"]["value"] == "Practitioner/dr2"
    denied = [e for e in events if e["outcome"] == "4"]
    assert denied and denied[-1]["agent"][0]["who"]["identifier"]["value"] == "Practitioner/dr2"


def test_break_the_glass_needs_a_reason_and_the_clinician_role(api) -> None:  # type: ignore[no-untyped-def]
    client, settings, _ = api
    h = {**headers(settings, "clinician-outsider"), "X-Break-Glass-Reason": "x"}
    assert client.get("/Patient/p1", headers=h).status_code == 400
    h = {**headers(settings, "admin"), "X-Break-Glass-Reason": "because I can"}
    assert client.get("/Patient/p1", headers=h).status_code == 403


def test_inclusion_and_consistency_proofs_verify_against_signed_checkpoints(api) -> None:  # type: ignore[no-untyped-def]
    client, settings, _ = api
    client.get("/Patient/p2", headers=headers(settings, "admin"))
    first = client.get("/$ledger/checkpoint").json()
    client.get("/Patient/p1", headers=headers(settings, "admin"))
    log = client.get("/Patient/p1/$access-log", headers=headers(settings, "patient-p1")).json()
    second = client.get("/$ledger/checkpoint").json()
    cp1, cp2 = first["checkpoint"], second["checkpoint"]
    assert cp2["size"] > cp1["size"]
    entry = log["entry"][0]["resource"]
    proof = client.get(
        "/$ledger/inclusion", params={"index": entry["id"], "size": cp2["size"]}
    ).json()
    leaf = merkle.leaf_hash(orjson.dumps(entry, option=orjson.OPT_SORT_KEYS))
    assert merkle.verify_inclusion(
        int(entry["id"]),
        cp2["size"],
        leaf,
        [bytes.fromhex(h) for h in proof["proof"]],
        bytes.fromhex(cp2["root"]),
    )
    cons = client.get(
        "/$ledger/consistency", params={"first": cp1["size"], "second": cp2["size"]}
    ).json()
    assert merkle.verify_consistency(
        cp1["size"],
        cp2["size"],
        [bytes.fromhex(h) for h in cons["proof"]],
        bytes.fromhex(cp1["root"]),
        bytes.fromhex(cp2["root"]),
    )


@pytest.mark.parametrize(
    "url",
    [
        "/$ledger/inclusion?index=-1",
        "/$ledger/inclusion?index=abc",
        "/$ledger/inclusion",
        "/$ledger/inclusion?index=999999",
        "/$ledger/consistency?first=0",
        "/$ledger/consistency?first=5&second=2",
        "/$ledger/inclusion?index=0&size=0",
    ],
)
def test_bad_proof_requests_are_400s_never_500s(api, url: str) -> None:  # type: ignore[no-untyped-def]
    client, settings, _ = api
    client.get("/Patient/p1", headers=headers(settings, "admin"))
    r = client.get(url)
    assert r.status_code == 400, (url, r.status_code, r.text)


def test_patients_manage_their_own_consents(api) -> None:  # type: ignore[no-untyped-def]
    client, settings, _ = api
    me, doc = headers(settings, "patient-p1"), headers(settings, "clinician-care-team")
    assert client.get("/Observation/gen1", headers=doc).status_code == 200
    r = client.post(
        "/Patient/p1/$consent",
        params={"template": "restrict-category", "category": "genomics"},
        headers=me,
    )
    assert r.status_code == 201, r.text
    cid = r.json()["id"]
    assert client.get("/Observation/gen1", headers=doc).status_code == 404  # enforced at once
    listed = client.get("/Patient/p1/$consents", headers=me).json()
    assert [e["resource"]["id"] for e in listed["entry"]] == [cid]
    assert client.delete(f"/Patient/p1/$consent/{cid}", headers=me).status_code == 200
    assert client.get("/Observation/gen1", headers=doc).status_code == 200
    log = client.get("/Patient/p1/$access-log", headers=me).json()
    assert sum(e["resource"]["subtype"][0]["code"] == "consent" for e in log["entry"]) == 2


@pytest.mark.parametrize(
    ("params", "body", "status"),
    [
        ({"template": "bogus"}, None, 400),
        ({"template": "restrict-category"}, None, 400),
        ({"template": "restrict-category", "category": "astrology"}, None, 400),
        ({"template": "deny-actor", "actor": "Patient/p4"}, None, 400),
        ({}, b"not json", 400),
        ({}, b"[1,2]", 400),
        (
            {},
            json.dumps(
                {
                    "resourceType": "Consent",
                    "status": "active",
                    "patient": {"reference": "Patient/p4"},
                    "scope": {"coding": [{"code": "research"}]},
                }
            ).encode(),
            403,
        ),
        ({}, json.dumps({"resourceType": "Observation"}).encode(), 400),
    ],
)
def test_bad_consent_requests_are_refused(
    api, params: dict, body: bytes | None, status: int
) -> None:  # type: ignore[no-untyped-def]
    client, settings, _ = api
    r = client.post(
        "/Patient/p1/$consent",
        params=params,
        content=body or b"",
        headers=headers(settings, "patient-p1"),
    )
    assert r.status_code == status, r.text


def test_others_cannot_manage_a_patients_consents(api) -> None:  # type: ignore[no-untyped-def]
    client, settings, _ = api
    for role in ("patient-p4", "clinician-care-team"):
        r = client.post(
            "/Patient/p1/$consent",
            params={"template": "research-opt-out"},
            headers=headers(settings, role),
        )
        assert r.status_code == 404


def test_a_clinicians_search_shows_only_their_patients(api) -> None:  # type: ignore[no-untyped-def]
    client, settings, _ = api
    bundle = client.get("/Observation", headers=headers(settings, "clinician-care-team")).json()
    refs = {e["resource"]["subject"]["reference"] for e in bundle.get("entry", [])}
    assert refs == {"Patient/p1"}
    patients = client.get("/Patient", headers=headers(settings, "patient-p4")).json()
    assert [e["resource"]["id"] for e in patients["entry"]] == ["p4"]


def wait_export(client, h) -> dict:  # type: ignore[no-untyped-def]
    r = client.get("/$export", headers={**h, "Prefer": "respond-async"})
    assert r.status_code == 202, r.text
    url = r.headers["content-location"].split("testserver", 1)[-1]
    for _ in range(400):
        s = client.get(url, headers=h)
        if s.status_code == 200:
            assert s.json()["requiresAccessToken"] is True  # auth is on: files need the token
            return {
                o["type"]: [
                    json.loads(x)
                    for x in client.get(
                        o["url"].split("testserver", 1)[-1], headers=h
                    ).text.splitlines()
                ]
                for o in s.json()["output"]
            }
        time.sleep(0.05)
    raise AssertionError("export did not finish")


def test_researchers_export_is_de_identified_and_skips_opted_out_patients(api) -> None:  # type: ignore[no-untyped-def]
    client, settings, _ = api
    admin = headers(settings, "admin")
    assert (
        client.post(
            "/Patient/p4/$consent", params={"template": "research-opt-out"}, headers=admin
        ).status_code
        == 201
    )
    files = wait_export(client, headers(settings, "researcher"))
    patients = files["Patient"]
    assert len(patients) == 2  # p1 and p2; p4 opted out
    assert all(
        len(p["id"]) == 32 and "name" not in p and len(p.get("birthDate", "")) == 4
        for p in patients
    )
    assert all(
        o["subject"]["reference"].split("/")[1] in {p["id"] for p in patients}
        for o in files["Observation"]
    )
    other = wait_export(client, admin)
    assert {p["id"] for p in other["Patient"]} == {"p1", "p2", "p4"}


def test_development_mode_without_auth_must_be_switched_on_explicitly(tmp_path: Path) -> None:
    client, settings, store = world(tmp_path / "home")
    assert client.get("/Patient/p1").status_code == 401
    dev = GovernanceConfig.from_env(settings, {"PMED_AUTH": "off"})
    client.app.state.governance = GovernanceState(store, settings, dev)  # type: ignore[attr-defined]
    assert client.get("/Patient/p1").status_code == 200
    log = client.app.state.governance.readable_ledger().entries_for_patient("p1")  # type: ignore[attr-defined]
    assert log[0]["agent"][0]["who"]["identifier"]["value"] == "dev"


def test_deleting_a_patient_shreds_their_data_key_and_the_ledger_keeps_the_fact(api) -> None:  # type: ignore[no-untyped-def]
    from pmed.governance.encryption import KeyDestroyed, PatientKeys, load_master_key

    client, settings, store = api
    keys = PatientKeys(store.engine, load_master_key(GovernanceConfig(home=settings.home)))
    sealed = keys.encrypt("p4", b"CYP2C19 *2/*2", "Observation/g4")
    assert client.delete("/Patient/p4", headers=headers(settings, "admin")).status_code == 204
    fresh = PatientKeys(store.engine, load_master_key(GovernanceConfig(home=settings.home)))
    with pytest.raises(KeyDestroyed):
        fresh.decrypt("p4", sealed, "Observation/g4")
    log = client.get("/Patient/p4/$access-log", headers=headers(settings, "admin")).json()
    assert any(e["resource"]["subtype"][0]["code"] == "delete" for e in log["entry"])


def test_consents_written_by_another_process_take_effect_within_a_second(api) -> None:  # type: ignore[no-untyped-def]
    from pmed.governance import consent

    client, settings, store = api
    doc = headers(settings, "clinician-care-team")
    assert client.get("/Observation/gen1", headers=doc).status_code == 200
    store.write_batch([{**consent.restrict_category("p1", "genomics"), "id": "from-ingest"}])
    time.sleep(1.2)
    assert client.get("/Observation/gen1", headers=doc).status_code == 404


@pytest.mark.parametrize(
    ("method", "url", "status"),
    [
        ("GET", "/Patient/p1/$access-log?_count=0", 400),
        ("GET", "/Patient/p1/$access-log?_count=abc", 400),
        ("GET", "/Patient/p1/$access-log?_offset=-1", 400),
        ("GET", "/Patient/nobody/$access-log", 200),
        ("DELETE", "/Patient/p1/$consent/no-such-consent", 404),
        ("GET", "/Patient/%00/$consents", 200),
    ],
)
def test_bad_input_to_the_governance_endpoints(api, method: str, url: str, status: int) -> None:  # type: ignore[no-untyped-def]
    client, settings, _ = api
    r = client.request(method, url, headers=headers(settings, "admin"))
    assert r.status_code == status, (url, r.status_code, r.text)


def test_bulk_exports_follow_each_roles_reach(api) -> None:  # type: ignore[no-untyped-def]
    client, settings, _ = api
    mine = wait_export(client, headers(settings, "patient-p1"))
    assert {p["id"] for p in mine["Patient"]} == {"p1"}
    assert {o["id"] for o in mine["Observation"]} == {"ldl1", "gen1"}
    care = wait_export(client, headers(settings, "clinician-care-team"))
    assert {p["id"] for p in care["Patient"]} == {"p1", "p2"}  # CareTeam, generalPractitioner
    assert "ldl4" not in {o["id"] for o in care["Observation"]}
