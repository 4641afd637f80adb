"""The CDS Hooks service over real HTTP on loopback: discovery, the three hooks, the spec's own
example requests, feedback, reports, and bad input (400 OperationOutcome, never 500)."""

from __future__ import annotations

import copy
import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from pmed.api.server import free_port
from tests.care import builders as b
from tests.care.cds_rules import check_response

DATA = Path(__file__).parents[1] / "data" / "cds_hooks"


def spec(name: str) -> dict[str, Any]:
    return json.loads((DATA / name).read_text())


def call(server, service: str, body: Any):
    return server.client.post(f"/cds-services/{service}", json=body)


def view(pid: str = "p1", **extra) -> dict[str, Any]:
    return {"hook": "patient-view", "hookInstance": "5f0c3a1e-0000-4000-8000-000000000001",
            "context": {"userId": "Practitioner/dr", "patientId": pid}, **extra}  # fmt: skip


def sign(drafts: list[dict], pid: str = "p1", hook: str = "order-sign", **ctx) -> dict[str, Any]:
    bundle = {"resourceType": "Bundle", "entry": [{"resource": d} for d in drafts]}
    return {"hook": hook, "hookInstance": "5f0c3a1e-0000-4000-8000-000000000002",
            "context": {"userId": "Practitioner/dr", "patientId": pid, "draftOrders": bundle,
                        **ctx}}  # fmt: skip


def prefetch_of(resources: list[dict]) -> dict[str, Any]:
    def bundle(rtype: str) -> dict[str, Any]:
        return {
            "resourceType": "Bundle",
            "type": "searchset",
            "entry": [{"resource": r} for r in resources if r["resourceType"] == rtype],
        }

    return {
        "patient": resources[0],
        "conditions": bundle("Condition"),
        "medications": bundle("MedicationRequest"),
        "statements": None,
        "observations": bundle("Observation"),
        "family": None,
    }


SIMVASTATIN = b.med("d1", "36567", "simvastatin 40 MG Oral Tablet", status="draft", mg=40)
WARFARIN = b.med("d2", "11289", "warfarin 5 MG Oral Tablet", status="draft", mg=5)


# ------------------------------------------------------------------------------- discovery
def test_discovery_lists_three_services_with_prefetch_templates(cds):
    r = cds.client.get("/cds-services")
    assert r.status_code == 200
    services = {s["id"]: s for s in r.json()["services"]}
    assert {s["hook"] for s in services.values()} == {"patient-view", "order-select",
                                                       "order-sign"}  # fmt: skip
    for s in services.values():
        assert s["title"] and s["description"]
        for template in s["prefetch"].values():
            assert "{{context.patientId}}" in template
            assert template.replace("{{context.patientId}}", "x").count("{{") == 0


# ---------------------------------------------------------------------------- patient-view
def test_patient_view_from_own_store_gives_the_care_plan(cds, server_errors):
    r = call(cds, "pmed-care-plan", view())
    assert r.status_code == 200, r.text
    cards = check_response(r.json())
    summaries = [c["summary"] for c in cards]
    assert summaries[0] == "CYP2C19 Poor Metabolizer: use an alternative to clopidogrel"
    assert cards[0]["indicator"] == "critical"
    assert any("CHA2DS2-VASc 2" in s for s in summaries)
    assert all(c["links"][0]["url"].endswith("/report/p1") for c in cards)
    assert not server_errors


def test_patient_view_with_full_prefetch_needs_no_store(cds):
    resources = [dict(r) for r in b.cardiometabolic(pid="pf")]
    r = call(cds, "pmed-care-plan", view("pf", prefetch=prefetch_of(resources)))
    assert r.status_code == 200, r.text  # Patient/pf is not in the store: prefetch was enough
    assert len(check_response(r.json())) == 5


def test_null_prefetch_means_no_data_not_missing(cds):
    resources = b.cardiometabolic(pid="pn")
    prefetch = prefetch_of(resources) | {"observations": None}
    cards = check_response(call(cds, "pmed-care-plan", view("pn", prefetch=prefetch)).json())
    assert not any("eGFR" in c["summary"] or "Poor Metabolizer" in c["summary"] for c in cards)
    assert any("without a CYP2C19 result" in c["summary"] for c in cards)


# --------------------------------------------------------------------- order-sign / -select
def test_order_sign_gives_drug_gene_and_dose_cards_with_replacing_suggestions(cds):
    r = call(cds, "pmed-order-sign", sign([SIMVASTATIN, WARFARIN]))
    assert r.status_code == 200, r.text
    cards = {c["summary"]: c for c in check_response(r.json())}
    simva = cards["SLCO1B1 Poor Function: use an alternative to simvastatin"]
    assert simva["indicator"] == "critical" and simva["selectionBehavior"] == "at-most-one"
    first = simva["suggestions"][0]
    assert first["isRecommended"] and first["label"].startswith("Replace with atorvastatin")
    assert first["actions"][0] == {
        "type": "delete",
        "resourceId": "MedicationRequest/d1",
        "description": "Remove the draft order MedicationRequest/d1",
    }
    assert simva["overrideReasons"]
    warfarin = next(c for s, c in cards.items() if s.startswith("Warfarin 5 mg/day ordered"))
    assert "3.2" in warfarin["summary"] and warfarin["indicator"] == "warning"
    # Only advice about the orders: the AF and diabetes cards belong to patient-view.
    assert not any("CHA2DS2" in s or "FINDRISC" in s for s in cards)


def test_order_sign_duplicate_therapy(cds):
    draft = b.med("d3", "29046", "lisinopril 20 MG Oral Tablet", status="draft")
    cards = check_response(call(cds, "pmed-order-sign", sign([draft])).json())
    assert [c["summary"][:22] for c in cards] == ["Duplicate therapy: lis"]


def test_order_select_answers_for_the_selected_orders(cds):
    body = sign([SIMVASTATIN, WARFARIN], hook="order-select",
                selections=["MedicationRequest/d2"])  # fmt: skip
    cards = check_response(call(cds, "pmed-order-select", body).json())
    assert cards and all("arfarin" in c["summary"] for c in cards)


# ---------------------------------------------------------------- the spec's own examples
def test_spec_patient_view_example_fetches_from_fhir_server(cds, ehr):
    body = spec("spec_patient_view_request.json")
    body["fhirServer"] = ehr.base  # the example's server, played by a loopback pmed
    # ... whose API wants a real token: the one the CDS client hands over is forwarded.
    body["fhirAuthorization"]["access_token"] = ehr.admin()["Authorization"].split()[1]
    r = call(cds, "pmed-care-plan", body)
    assert r.status_code == 200, r.text
    cards = check_response(r.json())
    # HbA1c 7.0% lives only on the "EHR" server: the card proves the fetch happened.
    assert any(c["summary"].startswith("HbA1c 7% with no diabetes diagnosis") for c in cards)


def test_spec_patient_view_example_with_rejected_token_is_412(cds, ehr):
    body = spec("spec_patient_view_request.json")  # its opaque token is not valid at our "EHR"
    body["fhirServer"] = ehr.base
    r = call(cds, "pmed-care-plan", body)
    assert r.status_code == 412 and "401" in r.json()["issue"][0]["diagnostics"]


def test_spec_patient_view_example_with_unreachable_fhir_server_is_412(cds):
    body = spec("spec_patient_view_request.json")
    body["fhirServer"] = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    r = call(cds, "pmed-care-plan", body)
    assert r.status_code == 412
    assert r.json()["resourceType"] == "OperationOutcome"


def test_spec_order_sign_example_is_answered(cds):
    r = call(cds, "pmed-order-sign", spec("spec_order_sign_request_r4.json"))
    assert r.status_code == 200, r.text
    # Amoxicillin/clavulanate has no CPIC guideline or renal rule here; the NutritionOrder is
    # not a medication: no cards, and certainly none guessed.
    assert check_response(r.json()) == []


def test_spec_feedback_examples_are_accepted(cds):
    for name in ("spec_feedback_accepted.json", "spec_feedback_overridden.json"):
        r = cds.client.post("/cds-services/pmed-order-sign/feedback", json=spec(name))
        assert r.status_code == 200, r.text
    kept = list(cds.app.state.cds_feedback)
    assert {f["outcome"] for f in kept} >= {"accepted", "overridden"}


# ------------------------------------------------------------------------------ bad input
def _drop(body: dict, *path: str) -> dict:
    body = copy.deepcopy(body)
    node = body
    for key in path[:-1]:
        node = node[key]
    del node[path[-1]]
    return body


NO_CODING = {
    "resourceType": "MedicationRequest",
    "id": "x",
    "status": "draft",
    "intent": "order",
    "medicationCodeableConcept": {"text": "simvastatin 40 mg"},
}
BAD = {
    "unknown patient": ("pmed-care-plan", view("nobody")),
    "missing context": ("pmed-care-plan", _drop(view(), "context")),
    "missing patientId": ("pmed-care-plan", _drop(view(), "context", "patientId")),
    "missing hookInstance": ("pmed-care-plan", _drop(view(), "hookInstance")),
    "wrong hook": ("pmed-order-sign", view()),
    "missing userId": ("pmed-order-sign", _drop(sign([SIMVASTATIN]), "context", "userId")),
    "missing draftOrders": ("pmed-order-sign", _drop(sign([]), "context", "draftOrders")),
    "draftOrders not a Bundle": ("pmed-order-sign", sign([]) | {"context": {
        "userId": "Practitioner/dr", "patientId": "p1", "draftOrders": [SIMVASTATIN]}}),
    "draft order without coding": ("pmed-order-sign", sign([NO_CODING])),
    "order-select without selections": ("pmed-order-select", sign([SIMVASTATIN], "p1",
                                                                  "order-select")),
    "prefetch patient is an Observation": ("pmed-care-plan", view(prefetch={
        "patient": b.obs("o", "4548-4", 6, "%")})),
    "prefetch patient is another patient": ("pmed-care-plan", view(prefetch={
        "patient": b.patient("someone-else")})),
    "prefetch conditions hold Observations": ("pmed-care-plan", view(prefetch={
        "conditions": {"resourceType": "Bundle", "entry": [
            {"resource": b.obs("o", "4548-4", 6, "%")}]}})),
    "prefetch not an object": ("pmed-care-plan", view(prefetch=["Patient/p1"])),
    "fhirServer not a URL": ("pmed-care-plan", view(fhirServer="ftp:/x")),
    "fhirAuthorization without token": ("pmed-care-plan", view(
        fhirServer="http://127.0.0.1:9", fhirAuthorization={"token_type": "Bearer"})),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_is_400_operation_outcome_never_500(cds, server_errors, case):
    service, body = BAD[case]
    r = call(cds, service, body)
    assert r.status_code == 400, (case, r.status_code, r.text)
    outcome = r.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert outcome["issue"][0]["severity"] == "error" and outcome["issue"][0]["diagnostics"]
    assert not server_errors


@pytest.mark.parametrize("raw", [b"{not json", b"[1, 2]", b"", "\u00e9".encode("latin-1")])
def test_malformed_json_is_400(cds, raw):
    r = cds.client.post("/cds-services/pmed-care-plan", content=raw,
                        headers={"Content-Type": "application/json"})  # fmt: skip
    assert r.status_code == 400 and r.json()["resourceType"] == "OperationOutcome"


def test_unknown_service_is_404(cds):
    assert call(cds, "no-such-service", view()).status_code == 404


@pytest.mark.parametrize(
    "feedback",
    [{}, {"feedback": []}, {"feedback": [{"card": "c", "outcome": "liked",
                                          "outcomeTimestamp": "2020-12-11T00:00:00Z"}]},
     {"feedback": [{"card": "c", "outcome": "accepted",
                    "outcomeTimestamp": "2020-12-11T00:00:00Z"}]}],
)  # fmt: skip
def test_bad_feedback_is_400(cds, feedback):
    r = cds.client.post("/cds-services/pmed-order-sign/feedback", json=feedback)
    assert r.status_code == 400


# --------------------------------------------------------------------------------- reports
def test_report_route_serves_self_contained_html(cds):
    assert cds.client.get("/report/p1").status_code == 401  # reports need a SMART token
    r = cds.client.get("/report/p1", headers=cds.admin())
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    html = r.text
    assert "<svg" in html and 'id="patient-banner"' in html and "<script" not in html
    assert 'src="http' not in html and "<link" not in html
    patient = cds.client.get(
        "/report", params={"patient": "p1", "audience": "patient"}, headers=cds.admin()
    )
    assert patient.status_code == 200 and "Questions to ask" in patient.text


def test_report_errors(cds):
    admin = cds.admin()
    assert cds.client.get("/report/nobody", headers=admin).status_code == 404
    bogus = cds.client.get("/report/p1", params={"audience": "bogus"}, headers=admin)
    assert bogus.status_code == 400


def test_identical_data_reuses_the_plan_and_changed_data_does_not(cds):
    resources = b.cardiometabolic(pid="pc")
    body = view("pc", prefetch=prefetch_of(resources))
    first = call(cds, "pmed-care-plan", body).json()
    cache = cds.app.state.cds_plan_cache
    hits = cache.hits
    again = call(cds, "pmed-care-plan", body | {"hookInstance": str(uuid.uuid4())}).json()
    assert cache.hits == hits + 1
    assert [c["summary"] for c in again["cards"]] == [c["summary"] for c in first["cards"]]
    assert {c["uuid"] for c in again["cards"]}.isdisjoint(c["uuid"] for c in first["cards"])
    changed = [r for r in resources if r.get("id") != "c19-ph"]  # CYP2C19 phenotype gone
    third = call(cds, "pmed-care-plan", view("pc", prefetch=prefetch_of(changed))).json()
    assert cache.hits == hits + 1
    assert "CYP2C19 Poor Metabolizer: use an alternative to clopidogrel" not in [
        c["summary"] for c in third["cards"]
    ]


JUNK = [None, "", "x", -1, 0, 1e308, [], {}, [1], {"a": 1}, True, "2025-13-45"]


def _paths(node: Any, path: tuple = ()) -> list[tuple]:
    out = [path] if path else []
    if isinstance(node, dict):
        for key, value in node.items():
            out += _paths(value, (*path, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            out += _paths(value, (*path, i))
    return out


def test_mutated_requests_never_get_a_500(cds, server_errors):
    """Fuzz: 150 requests, each with 1–3 elements anywhere replaced by junk (a fixed seed)."""
    import random

    rng = random.Random(20261122)
    base_view = view("fz", prefetch=prefetch_of(b.cardiometabolic(pid="fz")))
    base_sign = sign([SIMVASTATIN, WARFARIN], "fz") | {"prefetch": base_view["prefetch"]}
    statuses = set()
    for _ in range(150):
        service, body = rng.choice([("pmed-care-plan", base_view), ("pmed-order-sign", base_sign)])
        body = copy.deepcopy(body)
        for _ in range(rng.randint(1, 3)):
            path = rng.choice(_paths(body))
            node = body
            for key in path[:-1]:
                node = node[key]
            node[path[-1]] = rng.choice(JUNK)
        r = call(cds, service, body)
        statuses.add(r.status_code)
        assert r.status_code in (200, 400, 412), (path, r.text)
        if r.status_code == 200:
            check_response(r.json())
    assert not server_errors and {200, 400} <= statuses
