"""pmed's own one-line wording of a CPIC recommendation, generated from its structured facts.

Nothing here is CPIC text: the phrases are templates keyed by pmed's action categories (see
`tools/cpic_actions.py`), filled with the drug, the lookup key and the dose numbers.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

__all__ = ["ACTION_PHRASES", "describe_key", "summarize"]

ACTION_PHRASES: dict[str, str] = {
    "use-label-dose": "use {drug} at the standard, label-recommended dose",
    "reduce-dose": "use a reduced dose of {drug}",
    "increase-dose": "use a higher dose of {drug}",
    "limit-dose": "cap the starting dose of {drug}",
    "avoid": "avoid {drug}",
    "use-alternative": "use an alternative to {drug}",
    "consider-alternative": "consider an alternative to {drug}",
    "use-with-caution": "{drug} may be used with caution and closer monitoring",
    "titrate-with-monitoring": "start {drug} as usual and titrate by response and drug levels",
    "calculate-dose": "calculate the {drug} dose with a validated pharmacogenetic algorithm",
    "further-testing": "no phenotype from genotype: confirm by enzyme activity or further "
    "testing before relying on it for {drug}",
    "no-recommendation": "CPIC makes no genotype-based recommendation for {drug}",
    "not-applicable": "no CPIC recommendation applies to this result for {drug}",
    "needs-genotype": "{missing} result needed for a CPIC recommendation on {drug}",
    "not-covered": "CPIC has no recommendation for {drug} with this result",
    "see-guideline": "see the CPIC guideline for {drug}",
}

_MONITOR_WORDS = {
    "therapeutic-drug-monitoring": "drug levels",
    "toxicity": "toxicity (myelosuppression)",
    "hearing": "hearing",
    "anemia": "anemia",
    "cutaneous-reactions": "skin reactions",
    "myopathy": "myopathy",
    "efficacy": "efficacy",
}

_NUMERIC = re.compile(r"^(?:≥)?\d+(?:\.\d+)?$")


def describe_key(lookup: Mapping[str, str]) -> str:
    """'CYP2C19 Poor Metabolizer', 'DPYD activity score 1.0', 'HLA-B *57:01 positive'."""
    parts = []
    anything = [gene for gene, value in lookup.items() if value == "*"]
    if anything:
        parts.append(f"{' and '.join(anything)} genotyped")
    for gene, value in lookup.items():
        if value == "*":
            continue
        if value == "No Result":
            parts.append(f"{gene} not tested")
        elif value == "n/a":
            parts.append(f"{gene} activity score not assignable (n/a)")
        elif _NUMERIC.match(value):
            parts.append(f"{gene} activity score {value}")
        else:
            parts.append(f"{gene} {value}")
    return " + ".join(parts)


def _pct(x: float) -> str:
    return f"{round(x * 100, 1):g}%"


def _dose_phrase(facts: Mapping[str, Any]) -> str:
    bits: list[str] = []
    which = facts.get("dose_applies_to") or ""
    basis = (
        "lowest recommended starting dose"
        if facts.get("dose_basis") == "lowest-recommended-starting-dose"
        else f"usual {which} dose".replace("  ", " ")
    )
    if facts.get("dose_factor") is not None:
        bits.append(f"{_pct(facts['dose_factor'])} of the {basis}")
    elif facts.get("dose_factor_range"):
        lo, hi = facts["dose_factor_range"]
        bits.append(f"{_pct(lo)}–{_pct(hi)} of the {basis}")
    elif facts.get("dose"):
        dose = facts["dose"]
        amount = f"{dose['value']:g}"
        for alt in facts.get("dose_alternatives") or []:
            amount += f" or {alt:g}"
        bits.append(f"{amount} {dose['unit']}")
    elif facts.get("dose_basis") == "lowest-recommended-starting-dose":
        bits.append("the lowest recommended starting dose")
    elif facts.get("max_dose_mg") is not None:
        bits.append(f"at most {facts['max_dose_mg']:g} mg")
    elif which:
        bits.append(f"{which} dose")
    if facts.get("dose_frequency"):
        bits.append(f"given {facts['dose_frequency']}")
    return ", ".join(bits)


def _action_phrase(facts: Mapping[str, Any], drug: str, missing: str = "") -> str:
    action = str(facts.get("action", "see-guideline"))
    phrase = ACTION_PHRASES.get(action, ACTION_PHRASES["see-guideline"])
    text = phrase.format(drug=drug, missing=missing)
    if action in {"reduce-dose", "increase-dose", "limit-dose"}:
        dose = _dose_phrase(facts)
        if dose:
            text += f" ({dose})"
    return text


def summarize(
    drug: str,
    lookup: Mapping[str, str],
    facts: Mapping[str, Any],
    *,
    strength: str | None = None,
    population: str | None = None,
    missing: str = "",
) -> str:
    """One line a clinician reads, e.g.
    'CYP2C19 Poor Metabolizer: use an alternative to clopidogrel. CPIC strength: strong.'"""
    parts = [_action_phrase(facts, drug, missing)]
    also = [a for a in facts.get("also") or [] if a in {"use-alternative", "consider-alternative"}]
    if also and facts.get("action") not in {"use-alternative", "consider-alternative"}:
        alternative = ACTION_PHRASES["consider-alternative"].format(drug=drug)
        parts.append(alternative if facts.get("action") == "avoid" else f"or {alternative}")
    fallback = facts.get("if_used")
    if isinstance(fallback, Mapping):
        parts.append(f"if {drug} is still used: {_action_phrase(fallback, drug)}")
    split = facts.get("condition_split")
    if isinstance(split, Mapping) and split.get("non-malignant") == "consider-alternative":
        parts.append("for non-malignant conditions consider a non-thiopurine alternative")
    if facts.get("avoid_interacting"):
        parts.append(f"avoid {facts['avoid_interacting']}")
    if facts.get("titration") == "slower":
        parts.append("titrate more slowly")
    elif facts.get("titration") == "to-higher-target":
        parts.append("titrate to a higher target dose")
    monitoring = [_MONITOR_WORDS.get(m, m) for m in facts.get("monitoring") or []]
    if monitoring:
        parts.append("monitor " + ", ".join(monitoring))
    line = "; ".join(parts)
    head = describe_key(lookup)
    text = f"{head}: {line}." if head else f"{line[0].upper()}{line[1:]}."
    tail = []
    if strength:
        tail.append(f"CPIC strength: {strength}")
    if population and population != "general":
        tail.append(f"population: {population}")
    if tail:
        text += " " + "; ".join(tail) + "."
    return text
