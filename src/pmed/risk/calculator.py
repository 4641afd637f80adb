"""The calculator contract: declared inputs in, an `Evaluation` out, for one patient or columns.

A calculator is a class with its inputs declared once (`inputs`), its citations (`evidence`), the
knowledge files it reads (`knowledge`), and two ways to compute: `evaluate` for one patient (with
the per-term explanation) and `evaluate_columns` for a population (numpy, no Python loop per row).
`pmed.risk.engine` turns an evaluation into a `Finding`; nothing here knows about findings' shape.
"""

from __future__ import annotations

import contextlib
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from pmed.errors import InputError
from pmed.findings import Code, Contribution, Evidence, FindingKind, Severity
from pmed.risk.inputs import InputSpec

__all__ = ["PMED_RISK_SYSTEM", "Calculator", "Evaluation", "logistic", "survival_risk"]

PMED_RISK_SYSTEM = "https://pmed.dev/fhir/CodeSystem/calculator"


@dataclass
class Evaluation:
    """One patient's result before it becomes a `Finding`.

    `value` is None when the equation does not apply to this patient (`summary` says why).
    `terms` are the factor contributions: linear-predictor terms (coefficient × value) for
    equations, points per item for point scores.
    """

    value: float | None
    terms: list[Contribution]
    summary: str
    severity: Severity = Severity.INFO
    band: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def applicable(self) -> bool:
        return self.value is not None


class Calculator(ABC):
    """Base of every risk score and dose calculator (see the module docstring)."""

    name: ClassVar[str]
    title: ClassVar[str]
    unit: ClassVar[str]
    code: ClassVar[Code]
    inputs: ClassVar[tuple[InputSpec, ...]]
    evidence: ClassVar[tuple[Evidence, ...]]
    knowledge: ClassVar[tuple[str, ...]]
    kind: ClassVar[FindingKind] = FindingKind.RISK
    # Inputs whose contribution is also reported in risk points against the reference profile.
    risk_factors: ClassVar[tuple[str, ...]] = ()
    # Cardiovascular-event risks accept the treatment-effect what-ifs (statin, SBP lowering).
    cardiovascular: ClassVar[bool] = False
    # Keyword options `evaluate` accepts, with their allowed values.
    option_values: ClassVar[dict[str, tuple[Any, ...]]] = {}

    def spec(self, name: str) -> InputSpec:
        for spec in self.inputs:
            if spec.name == name:
                return spec
        raise KeyError(name)

    def check_options(self, options: Mapping[str, Any]) -> dict[str, Any]:
        """The options this calculator takes (defaults filled), refusing values it does not."""
        unknown = sorted(set(options) - set(self.option_values))
        if unknown:
            raise InputError(f"{self.name} takes no option {', '.join(unknown)}", field=unknown[0])
        out: dict[str, Any] = {}
        for key, allowed in self.option_values.items():
            value = options.get(key)
            if value is None:
                value = allowed[0]
            if isinstance(allowed[0], int) and not isinstance(value, bool):
                with contextlib.suppress(TypeError, ValueError):
                    value = int(value)
            if value not in allowed:
                choices = ", ".join(str(a) for a in allowed)
                raise InputError(
                    f"{self.name}: {key} must be one of {choices}, got {value!r}", field=key
                )
            out[key] = value
        return out

    def not_applicable_for(self, x: Mapping[str, Any]) -> Evaluation | None:
        """An evaluation saying so when a given input lies outside where the equation applies
        (e.g. PCE at age 35), else None. Needs only the inputs that declare `applies`."""
        for spec in self.inputs:
            if spec.applies is None or spec.name not in x:
                continue
            low, high = spec.applies
            value = x[spec.name]
            if not low <= value <= high:
                unit = f" {spec.unit}" if spec.unit else ""
                return Evaluation(
                    value=None,
                    terms=[],
                    summary=f"{self.title}: valid for {spec.description} {low:g}–{high:g}{unit}; "
                    f"not estimated at {value:g}{unit}",
                    details={
                        "applicable": False,
                        "reason": f"{spec.name} {value:g} outside {low:g}–{high:g}",
                    },
                )
        return None

    @abstractmethod
    def evaluate(self, x: Mapping[str, Any], **options: Any) -> Evaluation:
        """One patient's validated inputs → an evaluation with its factor contributions."""

    @abstractmethod
    def evaluate_columns(self, cols: Mapping[str, np.ndarray], **options: Any) -> np.ndarray:
        """Validated columns → one value per row (NaN where an input is missing or N/A)."""


def logistic(lp: Any) -> Any:
    """1 / (1 + exp(-lp)), for floats and arrays."""
    return 1.0 / (1.0 + np.exp(-lp))


def survival_risk(baseline_survival: Any, lp: Any, mean: Any) -> Any:
    """Cox-model risk 1 − S0^exp(lp − mean), for floats and arrays."""
    return 1.0 - np.power(baseline_survival, np.exp(lp - mean))
