"""Cards from recommendations follow the CDS Hooks 2.0 rules; the checker itself accepts the
spec's own example response and rejects broken cards."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pmed.care.cards import plan_cards, recommendation_card, summary_text
from pmed.care.model import Alternative, Recommendation
from pmed.findings import Severity
from tests.care.cds_rules import check_card, check_response

DATA = Path(__file__).parents[1] / "data" / "cds_hooks"


def test_checker_accepts_the_spec_example_response():
    cards = check_response(json.loads((DATA / "spec_response_example.json").read_text()))
    assert len(cards) == 2


@pytest.mark.parametrize(
    "broken",
    [
        {"summary": "x" * 140, "indicator": "info", "source": {"label": "s"}},
        {"summary": "ok", "indicator": "hard-stop", "source": {"label": "s"}},
        {"summary": "ok", "indicator": "info", "source": {"label": "s"},
         "suggestions": [{"label": "do"}]},  # no selectionBehavior
        {"summary": "ok", "indicator": "info", "source": {"label": "s"}, "uuid": "not-a-uuid"},
    ],
)  # fmt: skip
def test_checker_rejects_broken_cards(broken):
    with pytest.raises((AssertionError, KeyError, ValueError)):
        check_card(broken)


def test_summary_is_cut_below_140_characters_at_a_word():
    text = summary_text("word " * 60)
    assert len(text) < 140 and text.endswith("…") and "wor…" not in text


def _rec(severity: Severity, **kw) -> Recommendation:
    return Recommendation(key="drug:simvastatin", topic="drug-gene", title="T " * 100,
                          action="use-alternative", severity=severity, **kw)  # fmt: skip


@pytest.mark.parametrize(
    ("severity", "indicator"),
    [(Severity.INFO, "info"), (Severity.LOW, "info"), (Severity.MODERATE, "warning"),
     (Severity.HIGH, "critical"), (Severity.CRITICAL, "critical")],
)  # fmt: skip
def test_severity_maps_to_indicator(severity, indicator):
    card = recommendation_card(_rec(severity), hook_instance="h")
    check_card(card)
    assert card["indicator"] == indicator


def test_suggestion_replaces_the_draft_order_and_offers_override_reasons():
    draft = {"resourceType": "MedicationRequest", "id": "d1", "status": "draft", "intent": "order",
             "subject": {"reference": "Patient/p1"},
             "medicationCodeableConcept": {"coding": [{"code": "36567"}]}}  # fmt: skip
    rec = _rec(
        Severity.HIGH,
        order_ref="MedicationRequest/d1",
        alternatives=[Alternative(drug="atorvastatin", rxnorm="83367", dose="10-20 mg daily",
                                  recommended=True), Alternative(drug="rosuvastatin")],
    )  # fmt: skip
    card = recommendation_card(rec, hook_instance="h1", drafts={"MedicationRequest/d1": draft})
    check_card(card)
    assert card["selectionBehavior"] == "at-most-one"
    first = card["suggestions"][0]
    assert first["isRecommended"] is True
    assert [a["type"] for a in first["actions"]] == ["delete", "create"]
    assert first["actions"][0]["resourceId"] == "MedicationRequest/d1"
    created = first["actions"][1]["resource"]
    assert created["medicationCodeableConcept"]["coding"][0]["code"] == "83367"
    assert created["subject"] == {"reference": "Patient/p1"} and "id" not in created
    assert {r["code"] for r in card["overrideReasons"]} >= {"benefit-outweighs-risk"}
    # uuids: stable within a call, different across calls (hookInstance differs)
    again = recommendation_card(rec, hook_instance="h1", drafts={"MedicationRequest/d1": draft})
    other = recommendation_card(rec, hook_instance="h2", drafts={"MedicationRequest/d1": draft})
    assert again["uuid"] == card["uuid"] != other["uuid"]


def test_plan_cards_have_unique_uuids():
    recs = [_rec(Severity.LOW).model_copy(update={"key": f"k{i}"}) for i in range(5)]
    check_response({"cards": plan_cards(recs, hook_instance="h")})
