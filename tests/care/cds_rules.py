"""The CDS Hooks 2.0 response rules, as one checker the tests apply to every response
(https://cds-hooks.hl7.org/2.0/#card-attributes)."""

from __future__ import annotations

import uuid
from typing import Any

INDICATORS = {"info", "warning", "critical"}
SELECTION = {"at-most-one", "any"}
ACTIONS = {"create", "update", "delete"}


def _uuid(value: Any) -> None:
    assert isinstance(value, str) and str(uuid.UUID(value)) == value, value


def check_response(body: Any) -> list[dict[str, Any]]:
    assert isinstance(body, dict) and isinstance(body.get("cards"), list), body
    seen: set[str] = set()
    for card in body["cards"]:
        check_card(card)
        if "uuid" in card:
            assert card["uuid"] not in seen, "card uuids must be unique"
            seen.add(card["uuid"])
    return body["cards"]


def check_card(card: dict[str, Any]) -> None:
    assert isinstance(card["summary"], str) and 0 < len(card["summary"]) < 140, card["summary"]
    assert card["indicator"] in INDICATORS
    assert isinstance(card["source"], dict) and card["source"]["label"].strip()
    if "uuid" in card:
        _uuid(card["uuid"])
    for value in card.values():  # JSON attributes SHALL NOT be null; empty objects/arrays omitted
        assert value is not None and value != [] and value != {}
    if "suggestions" in card:
        assert card["selectionBehavior"] in SELECTION
        for s in card["suggestions"]:
            assert s["label"].strip()
            if "uuid" in s:
                _uuid(s["uuid"])
            for action in s.get("actions", []):
                assert action["type"] in ACTIONS and action["description"].strip()
                if action["type"] in ("create", "update"):
                    assert isinstance(action["resource"], dict)
                    assert action["resource"]["resourceType"]
                else:
                    assert "/" in action["resourceId"]
        if card["selectionBehavior"] == "at-most-one":
            assert sum(bool(s.get("isRecommended")) for s in card["suggestions"]) <= 1
    for reason in card.get("overrideReasons", []):
        assert reason["display"].strip() and reason["code"]
    for link in card.get("links", []):
        assert link["label"] and link["url"] and link["type"] in ("absolute", "smart")
        assert "appContext" not in link or link["type"] == "smart"
