"""The one mapping from care-plan recommendations to CDS Hooks 2.0 cards (DESIGN.md).

Card rules from the CDS Hooks 2.0 specification (https://cds-hooks.hl7.org/2.0/#card-attributes):
`summary` under 140 characters; `indicator` one of info / warning / critical; `source.label`
required; `suggestions` with `selectionBehavior` (here `at-most-one`: each suggestion replaces the
order a different way); action `type` create / update / delete with `resource` for create and
update and `resourceId` for delete; `overrideReasons` Codings each with a `display`; `uuid`s on
cards and suggestions so feedback can name them. Severity maps info/low → info, moderate →
warning, high/critical → critical.

Suggestions replace a draft order: delete the draft (`resourceId`) and create a MedicationRequest
for the alternative (a copy of the draft with the new drug and dose), all in one suggestion.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import orjson

from pmed.care.model import Alternative, Recommendation
from pmed.findings import Severity

__all__ = [
    "INDICATOR",
    "OVERRIDE_REASONS",
    "OVERRIDE_SYSTEM",
    "card_uuid",
    "recommendation_card",
    "summary_text",
]

INDICATOR = {
    Severity.INFO: "info",
    Severity.LOW: "info",
    Severity.MODERATE: "warning",
    Severity.HIGH: "critical",
    Severity.CRITICAL: "critical",
}
TOPIC_SYSTEM = "https://pmed.dev/fhir/CodeSystem/care-topic"
OVERRIDE_SYSTEM = "https://pmed.dev/fhir/CodeSystem/cds-override-reason"
OVERRIDE_REASONS = [
    {"system": OVERRIDE_SYSTEM, "code": "benefit-outweighs-risk",
     "display": "Benefit outweighs risk for this patient"},
    {"system": OVERRIDE_SYSTEM, "code": "tolerating-therapy",
     "display": "Patient has tolerated this therapy"},
    {"system": OVERRIDE_SYSTEM, "code": "will-monitor",
     "display": "Will monitor closely (levels, INR, symptoms)"},
    {"system": OVERRIDE_SYSTEM, "code": "data-disputed",
     "display": "Genotype or lab result disputed or outdated"},
    {"system": OVERRIDE_SYSTEM, "code": "patient-preference", "display": "Patient preference"},
]  # fmt: skip
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
_NS = uuid.UUID("6f1f8a52-3b3c-4d8e-9a51-0c6b2f6d7e10")
MAX_SUMMARY = 139


def _copy(value: Any) -> Any:
    """A deep copy of JSON data (orjson round trip: much faster than `copy.deepcopy`)."""
    return orjson.loads(orjson.dumps(value))


def card_uuid(hook_instance: str, key: str, part: str = "card") -> str:
    """Deterministic per call and recommendation: unique across calls (hookInstance is)."""
    return str(uuid.uuid5(_NS, f"{hook_instance}|{key}|{part}"))


def summary_text(text: str) -> str:
    """One line under 140 characters, cut at a word boundary with an ellipsis if needed."""
    line = " ".join(text.split())
    if len(line) <= MAX_SUMMARY:
        return line
    cut = line[: MAX_SUMMARY - 1].rsplit(" ", 1)[0].rstrip(",;:")
    return cut + "…"


def _detail(rec: Recommendation) -> str:
    lines = [rec.detail.strip()] if rec.detail else []
    if rec.strength:
        lines.append(f"**Strength:** {rec.strength}")
    if rec.rationale:
        lines.append("**Based on:**\n" + "\n".join(f"- {r}" for r in rec.rationale))
    if rec.alternatives:
        lines.append(
            "**Options:**\n"
            + "\n".join(
                f"- {a.drug}{f' {a.dose}' if a.dose else ''}{f' ({a.note})' if a.note else ''}"
                for a in rec.alternatives
            )
        )
    if rec.explanation and rec.explanation.what_ifs:
        lines.append(
            "**What if:**\n"
            + "\n".join(
                f"- {', '.join(f'{k}={v}' for k, v in w.changes.items())}: {w.value:g} "
                f"({w.absolute_change:+g}{', estimate' if w.estimate else ''})"
                for w in rec.explanation.what_ifs
            )
        )
    if rec.evidence:
        lines.append(
            "**Evidence:**\n"
            + "\n".join(
                f"- [{e.title}]({e.url})" if e.url else f"- {e.title}" for e in rec.evidence
            )
        )
    return "\n\n".join(lines)


def _replacement(draft: Mapping[str, Any], alt: Alternative) -> dict[str, Any]:
    new = _copy(dict(draft))
    new.pop("id", None)
    new.pop("meta", None)
    new.pop("text", None)
    new["status"] = "draft"
    if alt.rxnorm:
        concept: dict[str, Any] = {
            "coding": [{"system": RXNORM, "code": alt.rxnorm, "display": alt.drug}]
        }
    else:
        concept = _copy(dict(draft.get("medicationCodeableConcept") or {}))
    concept["text"] = f"{alt.drug} {alt.dose}" if alt.dose else alt.drug
    new["medicationCodeableConcept"] = concept
    if alt.dose:
        new["dosageInstruction"] = [{"text": f"{alt.drug} {alt.dose}"}]
    return new


def _suggestions(
    rec: Recommendation, drafts: Mapping[str, Mapping[str, Any]], hook_instance: str
) -> list[dict[str, Any]]:
    draft = drafts.get(rec.order_ref or "")
    if draft is None or not rec.alternatives:
        return []
    out = []
    for alt in rec.alternatives:
        label = f"Replace with {alt.drug}" + (f" {alt.dose}" if alt.dose else "")
        actions: list[dict[str, Any]] = []
        if draft.get("id"):
            actions.append(
                {
                    "type": "delete",
                    "description": f"Remove the draft order {rec.order_ref}",
                    "resourceId": f"MedicationRequest/{draft['id']}",
                }
            )
        actions.append(
            {
                "type": "create",
                "description": f"Order {alt.drug}" + (f" {alt.dose}" if alt.dose else ""),
                "resource": _replacement(draft, alt),
            }
        )
        out.append(
            {
                "label": summary_text(label),
                "uuid": card_uuid(hook_instance, rec.key, f"suggestion:{alt.drug}:{alt.dose}"),
                "isRecommended": alt.recommended,
                "actions": actions,
            }
        )
    return out


def recommendation_card(
    rec: Recommendation,
    *,
    hook_instance: str,
    drafts: Mapping[str, Mapping[str, Any]] | None = None,
    report_url: str | None = None,
) -> dict[str, Any]:
    """One card for one recommendation; suggestions when it addresses one of `drafts`."""
    first = rec.evidence[0] if rec.evidence else None
    source: dict[str, Any] = {
        "label": summary_text(f"pmed · {rec.rules[0]}" if rec.rules else "pmed"),
        "topic": {"system": TOPIC_SYSTEM, "code": rec.topic, "display": rec.topic},
    }
    if first is not None and first.url:
        source["url"] = first.url
    card: dict[str, Any] = {
        "uuid": card_uuid(hook_instance, rec.key),
        "summary": summary_text(rec.title),
        "indicator": INDICATOR[rec.severity],
        "source": source,
    }
    detail = _detail(rec)
    if detail:
        card["detail"] = detail
    suggestions = _suggestions(rec, drafts or {}, hook_instance)
    if suggestions:
        card["suggestions"] = suggestions
        card["selectionBehavior"] = "at-most-one"
    if rec.order_ref and rec.severity not in (Severity.INFO, Severity.LOW):
        card["overrideReasons"] = [dict(r) for r in OVERRIDE_REASONS]
    if report_url:
        card["links"] = [{"label": "pmed care report", "url": report_url, "type": "absolute"}]
    return card


def plan_cards(
    recommendations: Sequence[Recommendation],
    *,
    hook_instance: str,
    drafts: Mapping[str, Mapping[str, Any]] | None = None,
    report_url: str | None = None,
) -> list[dict[str, Any]]:
    return [
        recommendation_card(r, hook_instance=hook_instance, drafts=drafts, report_url=report_url)
        for r in recommendations
    ]


__all__ += ["plan_cards"]
