"""`Finding`: the one result type every engine returns (DESIGN.md, "The shared result").

A finding is what a clinician would read as one line of a report, plus everything needed to trust
it: the coded concept, the value, the guideline it rests on, how it was computed and from which
input resources. `pmed.record.fhir_output` maps findings to FHIR; `pmed.care` maps them to cards.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "Code",
    "Contribution",
    "Evidence",
    "Explanation",
    "Finding",
    "FindingKind",
    "Provenance",
    "Severity",
    "WhatIf",
]


class FindingKind(StrEnum):
    GENOTYPE = "genotype"
    PHENOTYPE = "phenotype"
    RECOMMENDATION = "recommendation"
    RISK = "risk"
    SCORE = "score"
    DOSE = "dose"
    ALERT = "alert"
    PREDICTION = "prediction"
    MISSING_DATA = "missing-data"


class Severity(StrEnum):
    """Ordered from least to most urgent; CDS Hooks indicators map info/warning/critical."""

    INFO = "info"
    LOW = "low"
    MODERATE = "moderate"
    HIGH = "high"
    CRITICAL = "critical"


class Code(BaseModel):
    """A coded concept: LOINC, SNOMED CT, RxNorm, or pmed's own code system."""

    model_config = ConfigDict(frozen=True)

    system: str
    code: str
    display: str | None = None


class Evidence(BaseModel):
    """A citation: the guideline or paper (and table) a result rests on."""

    model_config = ConfigDict(frozen=True)

    title: str
    url: str | None = None
    strength: str | None = None
    detail: str | None = None


class Contribution(BaseModel):
    """One factor's share of a result: the term of a linear predictor, or points of a score."""

    factor: str
    value: Any = None
    contribution: float
    unit: str | None = None
    source: str | None = None  # e.g. "Observation/123 (2024-05-01)"


class WhatIf(BaseModel):
    """The result recomputed with changed inputs."""

    changes: dict[str, Any]
    value: float
    absolute_change: float
    relative_change: float | None = None
    estimate: bool = False  # True when the effect comes from a meta-analysis, not the equation
    note: str | None = None


class Explanation(BaseModel):
    contributions: list[Contribution] = Field(default_factory=list)
    what_ifs: list[WhatIf] = Field(default_factory=list)
    text: str | None = None


class Provenance(BaseModel):
    engine: str
    engine_version: str
    knowledge: dict[str, str] = Field(default_factory=dict)  # name -> "source version"
    inputs: list[str] = Field(default_factory=list)  # resource references
    generated: datetime = Field(default_factory=lambda: datetime.now(UTC))


class Finding(BaseModel):
    """One engine result. `summary` is one line a clinician reads; the rest makes it trustworthy."""

    kind: FindingKind
    code: Code
    value: Any = None
    unit: str | None = None
    summary: str
    severity: Severity = Severity.INFO
    subject: str | None = None  # "Patient/<id>"
    evidence: list[Evidence] = Field(default_factory=list)
    explanation: Explanation | None = None
    provenance: Provenance
    details: dict[str, Any] = Field(default_factory=dict)
