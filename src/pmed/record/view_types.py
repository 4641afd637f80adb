"""The typed values `PatientRecord` returns. Each carries the resource it came from, so an engine
can cite its inputs (`Finding.provenance.inputs`, `Contribution.source`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

__all__ = [
    "BloodPressure",
    "Coding",
    "ConditionEntry",
    "Demographic",
    "GenomicResult",
    "Measurement",
    "MedicationEntry",
    "SmokingStatus",
]


def _cite(reference: str, when: datetime | None) -> str:
    return f"{reference} ({when.date().isoformat()})" if when else reference


@dataclass(frozen=True)
class Coding:
    system: str | None
    code: str | None
    display: str | None = None


@dataclass(frozen=True)
class Measurement:
    """One numeric value of an Observation (or of one of its components), in `unit`.

    `original_value`/`original_unit` are as recorded; `value`/`unit` after any conversion the
    caller asked for. `reference` is `Observation/<id>`; `date` the effective time (UTC).
    """

    code: str
    value: float
    unit: str | None
    date: datetime | None
    reference: str
    display: str | None = None
    original_value: float | None = None
    original_unit: str | None = None
    original_code: str | None = None  # the LOINC recorded, when a related code answered

    @property
    def source(self) -> str:
        """`Observation/123 (2024-05-01)`, the form `Contribution.source` takes."""
        return _cite(self.reference, self.date)

    @property
    def resource_id(self) -> str:
        return self.reference.split("/", 1)[-1]


@dataclass(frozen=True)
class BloodPressure:
    """Systolic and diastolic pressure measured together (a BP panel or same-time readings)."""

    systolic: Measurement
    diastolic: Measurement | None

    @property
    def date(self) -> datetime | None:
        return self.systolic.date

    @property
    def sources(self) -> list[str]:
        refs = [self.systolic.source]
        if self.diastolic is not None and self.diastolic.source not in refs:
            refs.append(self.diastolic.source)
        return refs


@dataclass(frozen=True)
class SmokingStatus:
    """Tobacco smoking status (LOINC 72166-2). `status` is never, former, current or unknown."""

    status: str
    coding: Coding
    date: datetime | None
    reference: str

    @property
    def current(self) -> bool:
        return self.status == "current"

    @property
    def ever(self) -> bool:
        return self.status in ("current", "former")

    @property
    def source(self) -> str:
        return _cite(self.reference, self.date)


@dataclass(frozen=True)
class Demographic:
    """US Core race or ethnicity: OMB categories, detailed codes (CDC Race & Ethnicity) and text."""

    categories: tuple[Coding, ...] = ()
    detailed: tuple[Coding, ...] = ()
    text: str | None = None

    @property
    def codes(self) -> list[str]:
        return [c.code for c in self.categories if c.code]

    @property
    def displays(self) -> list[str]:
        return [c.display for c in self.categories if c.display]


@dataclass(frozen=True)
class ConditionEntry:
    code: Coding  # the first coding (or the one that matched the code set)
    codings: tuple[Coding, ...]
    text: str | None
    clinical_status: str | None
    verification_status: str | None
    onset: datetime | None
    abatement: datetime | None
    recorded: datetime | None
    reference: str

    @property
    def source(self) -> str:
        return _cite(self.reference, self.onset or self.recorded)


@dataclass(frozen=True)
class MedicationEntry:
    code: Coding
    codings: tuple[Coding, ...]
    text: str | None
    status: str | None
    date: datetime | None  # authoredOn (request) or effective start / dateAsserted (statement)
    reference: str
    resource_type: str = "MedicationRequest"

    @property
    def source(self) -> str:
        return _cite(self.reference, self.date)


@dataclass(frozen=True)
class GenomicResult:
    """A pharmacogene result read back from Genomics Reporting IG Observations."""

    gene: str
    diplotype: str | None = None
    phenotype: str | None = None
    activity_score: str | None = None
    date: datetime | None = None
    references: tuple[str, ...] = field(default_factory=tuple)

    @property
    def sources(self) -> list[str]:
        return [_cite(r, self.date) for r in self.references]
