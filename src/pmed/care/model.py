"""The care plan's types: `Recommendation` (one piece of advice with its evidence) and `CarePlan`.

A recommendation is what a clinician acts on: an action with its strength, the rationale (the
findings and record data it rests on, with their sources), the guideline evidence, an optional
explanation (factor contributions, what-ifs), a plain-language version for the patient, and —
when it concerns a drug being ordered — the draft order it addresses and the alternatives that
could replace it. `key` identifies the advice (e.g. `drug:clopidogrel`) so that two rules giving
advice on the same thing are merged (`pmed.care.plan`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from pmed.findings import Code, Evidence, Explanation, Finding, Severity

__all__ = ["SEVERITY_ORDER", "Alternative", "CarePlan", "Recommendation"]

SEVERITY_ORDER = {s: i for i, s in enumerate(Severity)}


class Alternative(BaseModel):
    """A drug (and dose) that could replace the one ordered."""

    drug: str
    rxnorm: str | None = None
    dose: str | None = None
    max_dose_mg: float | None = None
    note: str | None = None
    recommended: bool = False


class Recommendation(BaseModel):
    key: str
    topic: str  # drug-gene | statin | antithrombotic | kidney | diabetes | duplicate
    title: str  # one line, the card summary
    action: str
    detail: str = ""
    strength: str | None = None
    severity: Severity = Severity.INFO
    rationale: list[str] = Field(default_factory=list)
    evidence: list[Evidence] = Field(default_factory=list)
    explanation: Explanation | None = None
    drug: Code | None = None
    alternatives: list[Alternative] = Field(default_factory=list)
    order_ref: str | None = None  # "MedicationRequest/<id>" of the draft order addressed
    patient_text: str = ""
    rules: list[str] = Field(default_factory=list)  # the rule(s) that produced it
    details: dict[str, Any] = Field(default_factory=dict)

    @property
    def rank(self) -> tuple[int, str, str]:
        """Most urgent first, then by topic and key (a total, deterministic order)."""
        return (-SEVERITY_ORDER[self.severity], self.topic, self.key)


class CarePlan(BaseModel):
    """Everything the plan rests on, and the merged, ordered recommendations."""

    patient: str  # "Patient/<id>"
    at: datetime
    recommendations: list[Recommendation] = Field(default_factory=list)
    findings: list[Finding] = Field(default_factory=list)  # risk scores, PGx phenotypes, ...
    notes: list[str] = Field(default_factory=list)
    inputs: dict[str, Any] = Field(default_factory=dict)
    sources: dict[str, str] = Field(default_factory=dict)

    def for_order(self, order_ref: str) -> list[Recommendation]:
        return [r for r in self.recommendations if r.order_ref == order_ref]
