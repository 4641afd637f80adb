"""Declarative cohort definitions for patient-level prediction (YAML or JSON).

A definition names a target population at an index date, an outcome observed within a horizon
after it, exclusions, a lookback window for features, and the features themselves. The design
follows OHDSI PatientLevelPrediction (Reps et al., JAMIA 2018): target cohort, outcome cohort,
time-at-risk window, and covariates from a lookback window before index.

Codes are written `SYSTEM:CODE` with a short system name (`snomed:22298006`,
`icd10:I21` — an ICD-10 category prefix, `loinc:2093-3`, `rxnorm:83367`), as `URL|CODE`, or as
`codeset:NAME` for a shipped code set (`pmed.record.codesets`, e.g. `codeset:diabetes`).
Every mistake is an `InputError` naming the field, raised before any query or training.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from pmed.errors import InputError, KnowledgeError
from pmed.record.codesets import (
    ICD10_SYSTEMS,
    RXNORM,
    SNOMED,
    condition_set,
    condition_set_names,
    medication_set,
    medication_set_names,
)

__all__ = [
    "LOINC",
    "SYSTEMS",
    "CodeRef",
    "CohortDefinition",
    "IndexEvent",
    "ObservationFeature",
    "OutcomeObservation",
    "load_definition",
    "resolve_codes",
]

LOINC = "http://loinc.org"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
SYSTEMS = {"snomed": SNOMED, "loinc": LOINC, "rxnorm": RXNORM, "icd10": ICD10CM}
_DEMOGRAPHICS = ("age", "sex", "race", "ethnicity")
Summary = Literal["latest", "mean", "min", "max", "count"]


@dataclass(frozen=True)
class CodeRef:
    """Resolved codes: exact `(system, code)` pairs plus ICD-10 prefixes (any ICD-10 system)."""

    label: str
    exact: frozenset[tuple[str, str]]
    icd10_prefixes: tuple[str, ...] = ()
    from_codeset: bool = False


def resolve_codes(refs: list[str], *, kind: str, field: str) -> CodeRef:
    """Turn the `SYSTEM:CODE` / `codeset:NAME` strings of one field into matchable codes."""
    if not refs:
        raise InputError("needs at least one code", field=field)
    exact: set[tuple[str, str]] = set()
    prefixes: list[str] = []
    from_codeset = False
    for i, ref in enumerate(refs):
        where = f"{field}[{i}]"
        if not isinstance(ref, str) or not ref.strip():
            raise InputError(
                "a code must be a non-empty string like 'snomed:22298006'", field=where
            )
        ref = ref.strip()
        if ref.startswith("codeset:"):
            name = ref.split(":", 1)[1]
            from_codeset = True
            try:
                cs = medication_set(name) if kind == "medication" else condition_set(name)
            except KnowledgeError:
                known = medication_set_names() if kind == "medication" else condition_set_names()
                raise InputError(
                    f"unknown {kind} code set {name!r}; known: {', '.join(known)}", field=where
                ) from None
            for system, codes in cs.codes.items():
                exact.update((system, c) for c in codes)
            for p in cs.prefixes:
                prefixes.append(p)
            continue
        if "|" in ref:
            system, _, code = ref.partition("|")
        elif ":" in ref and not ref.startswith("http"):
            alias, _, code = ref.partition(":")
            if alias.lower() not in SYSTEMS:
                raise InputError(
                    f"unknown code system {alias!r} in {ref!r}; use one of "
                    f"{', '.join(sorted(SYSTEMS))}, 'codeset:NAME' or 'URL|CODE'",
                    field=where,
                )
            system = SYSTEMS[alias.lower()]
        else:
            raise InputError(
                f"{ref!r} is not a code; write 'snomed:CODE', 'loinc:CODE', 'rxnorm:CODE', "
                "'icd10:PREFIX', 'URL|CODE' or 'codeset:NAME'",
                field=where,
            )
        if not code.strip():
            raise InputError(f"{ref!r} has no code after the system", field=where)
        if system in ICD10_SYSTEMS:
            prefixes.append(code.strip())
        else:
            exact.add((system, code.strip()))
    return CodeRef(", ".join(refs), frozenset(exact), tuple(dict.fromkeys(prefixes)), from_codeset)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Target(_Strict):
    """Who is in the cohort at the index date."""

    age: tuple[int, int] = (0, 120)  # inclusive bounds, years at index
    min_prior_observation_days: int = Field(0, ge=0)  # days in the record before index
    sex: Literal["female", "male"] | None = None
    require_conditions: list[str] = Field(default_factory=list)  # any of these before index

    @field_validator("age")
    @classmethod
    def _age_order(cls, v: tuple[int, int]) -> tuple[int, int]:
        if v[0] > v[1] or v[0] < 0:
            raise ValueError("age must be [min, max] with 0 <= min <= max")
        return v


class OutcomeObservation(_Strict):
    """An observation that counts as the outcome when its value crosses a threshold."""

    code: str
    min: float | None = None  # outcome when value >= min
    max: float | None = None  # outcome when value <= max

    @model_validator(mode="after")
    def _threshold(self) -> OutcomeObservation:
        if self.min is None and self.max is None:
            raise ValueError("an outcome observation needs a 'min' or 'max' threshold")
        return self


class Outcome(_Strict):
    """The event predicted: first occurrence in (index, index + horizon]."""

    conditions: list[str] = Field(default_factory=list)
    observations: list[OutcomeObservation] = Field(default_factory=list)
    death: bool = False
    horizon_days: int = Field(3652, gt=0)

    @model_validator(mode="after")
    def _something(self) -> Outcome:
        if not self.conditions and not self.observations and not self.death:
            raise ValueError("the outcome needs conditions, observations or death: true")
        return self


class Exclusions(_Strict):
    prior_outcome: bool = True  # exclude patients with the outcome on or before index
    conditions: list[str] = Field(default_factory=list)  # any of these before index excludes


class ObservationFeature(_Strict):
    """A lab or vital sign: summaries of its values in the lookback window, in one unit."""

    code: str  # 'loinc:2093-3'; also matched as an Observation.component code (e.g. BP)
    unit: str | None = None  # convert to this unit (pmed.record.units); None keeps values as is
    summaries: list[Summary] = Field(default_factory=lambda: ["latest"])  # type: ignore[arg-type]
    label: str | None = None


class CodedObservationFeature(_Strict):
    """1 when the latest such Observation in the lookback window has one of `values` as its
    coded value (e.g. smoking status 72166-2 = current smoker), 0 when it has another value,
    null when there is none."""

    code: str
    values: list[str]
    label: str | None = None


class Features(_Strict):
    demographics: list[str] = Field(default_factory=lambda: ["age", "sex"])
    conditions: dict[str, list[str]] = Field(default_factory=dict)  # name -> codes
    medications: dict[str, list[str]] = Field(default_factory=dict)
    observations: dict[str, ObservationFeature] = Field(default_factory=dict)
    coded_observations: dict[str, CodedObservationFeature] = Field(default_factory=dict)
    encounters: bool = True  # count of encounters in the lookback window

    @field_validator("demographics")
    @classmethod
    def _known(cls, v: list[str]) -> list[str]:
        bad = [d for d in v if d not in _DEMOGRAPHICS]
        if bad:
            raise ValueError(f"unknown demographics {bad}; choose from {list(_DEMOGRAPHICS)}")
        return v


class Audit(_Strict):
    """Fairness-audit settings: decision threshold, flag bounds, age bands."""

    threshold: float | None = Field(None, gt=0, lt=1)  # None: the outcome rate in training
    calibration_bound: float = Field(0.2, gt=0)  # flag when O/E leaves [1/(1+b), 1+b]
    equalised_odds_bound: float = Field(0.1, gt=0)  # flag when |TPR or FPR gap| > bound
    auroc_bound: float = Field(0.1, gt=0)  # flag when a group's AUROC is this far below the rest
    min_group_size: int = Field(100, ge=1)  # smaller groups are reported, never flagged
    mitigate: bool = False  # also fit group-specific thresholds and report before/after
    flag_on: list[Literal["calibration", "discrimination", "equalised_odds"]] = Field(
        default_factory=lambda: ["calibration", "discrimination"]  # type: ignore[arg-type]
    )
    age_bands: list[int] = Field(default_factory=lambda: [40, 50, 60, 70, 80])
    attributes: list[str] = Field(default_factory=lambda: ["sex", "race_ethnicity", "age_band"])


class IndexEvent(_Strict):
    """A per-patient index date: the patient's first `resource` (matching `codes`, if any) dated
    in [start, end] — OHDSI's cohort entry event. Patients without one are not in the cohort."""

    resource: Literal["Encounter", "Observation"] = "Encounter"
    codes: list[str] = Field(default_factory=list)  # Encounter.type or Observation.code
    start: date
    end: date

    @model_validator(mode="after")
    def _order(self) -> IndexEvent:
        if self.end < self.start:
            raise ValueError("index_event.end is before index_event.start")
        return self


class CohortDefinition(_Strict):
    """One prediction problem: target, index date, outcome, exclusions, lookback, features."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    title: str = ""
    description: str = ""
    intended_use: str = ""
    index_date: date | None = None  # one calendar index date for everyone, or
    index_event: IndexEvent | None = None  # the first qualifying event per patient
    lookback_days: int = Field(1095, gt=0)
    target: Target = Field(default_factory=Target)  # type: ignore[arg-type]
    outcome: Outcome
    exclusions: Exclusions = Field(default_factory=Exclusions)
    features: Features = Field(default_factory=Features)
    audit: Audit = Field(default_factory=Audit)  # type: ignore[arg-type]
    baselines: dict[str, dict[str, str]] = Field(
        default_factory=dict
    )  # calculator -> input -> column
    seed: int = 42
    test_fraction: float = Field(0.25, gt=0, lt=1)

    @model_validator(mode="after")
    def _codes_resolve(self) -> CohortDefinition:
        if (self.index_date is None) == (self.index_event is None):
            raise ValueError("give exactly one of index_date (a date) and index_event")
        # resolve every code list now so a typo fails here, not halfway through extraction
        self.code_refs()
        return self

    def code_refs(self) -> dict[str, CodeRef]:
        """Every code list of the definition, resolved, keyed by its field path."""
        out: dict[str, CodeRef] = {}
        if self.index_event and self.index_event.codes:
            out["index_event.codes"] = resolve_codes(
                self.index_event.codes, kind="observation", field="index_event.codes"
            )
        if self.target.require_conditions:
            out["target.require_conditions"] = resolve_codes(
                self.target.require_conditions, kind="condition", field="target.require_conditions"
            )
        if self.outcome.conditions:
            out["outcome.conditions"] = resolve_codes(
                self.outcome.conditions, kind="condition", field="outcome.conditions"
            )
        for i, obs in enumerate(self.outcome.observations):
            path = f"outcome.observations[{i}].code"
            out[path] = resolve_codes([obs.code], kind="observation", field=path)
        if self.exclusions.conditions:
            out["exclusions.conditions"] = resolve_codes(
                self.exclusions.conditions, kind="condition", field="exclusions.conditions"
            )
        for name, codes in self.features.conditions.items():
            path = f"features.conditions.{name}"
            out[path] = resolve_codes(codes, kind="condition", field=path)
        for name, codes in self.features.medications.items():
            path = f"features.medications.{name}"
            out[path] = resolve_codes(codes, kind="medication", field=path)
        for name, feat in self.features.observations.items():
            path = f"features.observations.{name}.code"
            out[path] = resolve_codes([feat.code], kind="observation", field=path)
        for name, coded in self.features.coded_observations.items():
            path = f"features.coded_observations.{name}"
            out[path + ".code"] = resolve_codes(
                [coded.code], kind="observation", field=path + ".code"
            )
            out[path + ".values"] = resolve_codes(
                coded.values, kind="value", field=path + ".values"
            )
        return out

    def fingerprint(self) -> str:
        """A stable hash of the definition (part of a model's provenance)."""
        text = json.dumps(self.model_dump(mode="json"), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()


def _pydantic_to_input_error(exc: ValidationError, file: str | None) -> InputError:
    first = exc.errors()[0]
    loc = ".".join(str(p) for p in first["loc"])
    ctx = first.get("ctx", {}) or {}
    inner = ctx.get("error")
    if isinstance(inner, InputError):
        return inner.located(file=file)
    reason = first["msg"].removeprefix("Value error, ")
    more = f" (and {len(exc.errors()) - 1} more problems)" if len(exc.errors()) > 1 else ""
    return InputError(reason + more, file=file, field=loc or None)


def load_definition(source: str | Path | dict[str, Any]) -> CohortDefinition:
    """Parse a cohort definition from a YAML/JSON file or a dict; `InputError` on any mistake."""
    file: str | None = None
    if isinstance(source, dict):
        data: Any = source
    else:
        path = Path(source)
        file = str(path)
        if not path.is_file():
            raise InputError("cohort definition file not found", file=file)
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            raise InputError(f"not valid YAML/JSON: {exc}", file=file) from None
    if not isinstance(data, dict):
        raise InputError("a cohort definition must be a mapping of fields", file=file)
    try:
        return CohortDefinition.model_validate(data)
    except ValidationError as exc:
        raise _pydantic_to_input_error(exc, file) from None
    except InputError as exc:
        raise exc.located(file=file) from None
