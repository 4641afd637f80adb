"""Run a calculator: validate declared inputs, evaluate, explain, and return a `Finding`.

`calculate` is the one-patient path (missing inputs → a missing-data finding naming them; out of
range → `InputError` with the range; explanation = linear-predictor terms or item points, plus
risk points for modifiable factors, each with its record source). `score_columns` is the
population path (numpy; Polars frames accepted). Both validate against the same declarations.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

import pmed
from pmed.findings import (
    Contribution,
    Explanation,
    Finding,
    FindingKind,
    Provenance,
    Severity,
)
from pmed.knowledge import load
from pmed.risk.calculator import Calculator, Evaluation
from pmed.risk.columns import as_columns
from pmed.risk.inputs import InputSpec, number, validate, validate_columns
from pmed.risk.registry import get_calculator

__all__ = ["AUXILIARY", "ENGINE", "calculate", "evaluate", "not_applicable", "score_columns"]

ENGINE = "pmed.risk"

# Inputs no equation uses but the what-if treatment estimates need (LDL for statin effects).
AUXILIARY: tuple[InputSpec, ...] = (
    number(
        "ldl",
        "LDL cholesterol",
        "mg/dL",
        10,
        500,
        "LOINC 13457-7 / 18262-6 / 2089-1",
        optional=True,
    ),
)


def evaluate(
    name: str, inputs: Mapping[str, Any], **options: Any
) -> tuple[Calculator, dict[str, Any], list[InputSpec], Evaluation | None, dict[str, Any]]:
    """Validate and evaluate: (calculator, clean inputs, missing specs, evaluation, options)."""
    calc = get_calculator(name)
    opts = calc.check_options(options)
    clean, missing = validate(calc.inputs, inputs)
    if missing:
        # An input outside where the equation applies settles it before anything is missing.
        return calc, clean, missing, calc.not_applicable_for(clean), opts
    return calc, clean, missing, calc.evaluate(clean, **opts), opts


def calculate(
    name: str,
    inputs: Mapping[str, Any],
    *,
    sources: Mapping[str, str] | None = None,
    subject: str | None = None,
    **options: Any,
) -> Finding:
    """One patient's result as a `Finding` (see the module docstring).

    `sources` maps input names to the record resources they came from, e.g.
    `{"sbp": "Observation/bp-1 (2024-05-01)"}`; they appear in the explanation and provenance.
    """
    sources = dict(sources or {})
    calc, clean, missing, ev, opts = evaluate(name, inputs, **options)
    provenance = _provenance(calc, sources)
    if ev is None:
        return _missing_finding(calc, missing, clean, subject, provenance)
    auxiliary, _ = validate(AUXILIARY, inputs) if calc.cardiovascular else ({}, [])
    contributions = [_with_source(t, sources) for t in ev.terms]
    if ev.applicable and calc.risk_factors:
        contributions += _risk_points(calc, clean, ev, opts, sources)
    details: dict[str, Any] = {
        "calculator": calc.name,
        "inputs": clean,
        "options": opts,
        "band": ev.band,
        "sources": sources,
        **ev.details,
    }
    if auxiliary:
        details["auxiliary"] = auxiliary
    return Finding(
        kind=calc.kind,
        code=calc.code,
        value=None if ev.value is None else round(ev.value, 4),
        unit=calc.unit if ev.applicable else None,
        summary=ev.summary,
        severity=ev.severity,
        subject=subject,
        evidence=list(calc.evidence),
        explanation=Explanation(contributions=contributions, text=_explanation_text(calc)),
        provenance=provenance,
        details=details,
    )


def not_applicable(name: str, reason: str, *, subject: str | None = None) -> Finding:
    """A result that says the calculator does not apply to this patient, and why."""
    calc = get_calculator(name)
    return Finding(
        kind=calc.kind,
        code=calc.code,
        summary=f"{calc.title}: not applicable, {reason}",
        subject=subject,
        evidence=list(calc.evidence),
        provenance=_provenance(calc, {}),
        details={"calculator": calc.name, "applicable": False, "reason": reason},
    )


def score_columns(name: str, data: Any, **options: Any) -> np.ndarray:
    """Score a whole population: one value per row (NaN where an input is missing or N/A).

    `data` is a Polars DataFrame or a mapping of column name → array-like, with the calculator's
    input names as columns (flags as bool/0/1, choices as strings). Values out of the declared
    range are refused, naming the first offending row.
    """
    calc = get_calculator(name)
    opts = calc.check_options(options)
    cols = validate_columns(calc.inputs, as_columns(data))
    return calc.evaluate_columns(cols, **opts)


def _provenance(calc: Calculator, sources: Mapping[str, str]) -> Provenance:
    knowledge = {}
    for name in calc.knowledge:
        prov = load(name).provenance
        knowledge[name] = prov.label()
    refs = sorted({ref.split(" ")[0] for ref in sources.values() if "/" in ref})
    return Provenance(
        engine=f"{ENGINE}.{calc.name}",
        engine_version=pmed.__version__,
        knowledge=knowledge,
        inputs=refs,
    )


def _missing_finding(
    calc: Calculator,
    missing: list[InputSpec],
    clean: Mapping[str, Any],
    subject: str | None,
    provenance: Provenance,
) -> Finding:
    names = ", ".join(spec.describe() for spec in missing)
    return Finding(
        kind=FindingKind.MISSING_DATA,
        code=calc.code,
        summary=f"{calc.title} not calculated: missing {names}",
        severity=Severity.INFO,
        subject=subject,
        evidence=list(calc.evidence),
        provenance=provenance,
        details={
            "calculator": calc.name,
            "missing": [
                {"name": s.name, "description": s.description, "unit": s.unit, "source": s.source}
                for s in missing
            ],
            "inputs": dict(clean),
        },
    )


def _with_source(term: Contribution, sources: Mapping[str, str]) -> Contribution:
    source = sources.get(term.factor)
    return term.model_copy(update={"source": source}) if source else term


def _risk_points(
    calc: Calculator,
    clean: Mapping[str, Any],
    ev: Evaluation,
    opts: Mapping[str, Any],
    sources: Mapping[str, str],
) -> list[Contribution]:
    """Per modifiable factor: the risk now minus the risk with that factor alone at reference."""
    reference = load("risk/treatment_effects").data["reference_profile"]["values"]
    assert ev.value is not None
    out = []
    for factor in calc.risk_factors:
        if factor not in reference or factor not in clean:
            continue
        if clean[factor] == reference[factor]:
            points = 0.0
        else:
            changed = calc.evaluate({**clean, factor: reference[factor]}, **opts)
            if changed.value is None:
                continue
            points = ev.value - changed.value
        out.append(
            Contribution(
                factor=factor,
                value=clean[factor],
                contribution=round(points, 4),
                unit="risk points (%) vs reference",
                source=sources.get(factor),
            )
        )
    return out


def _explanation_text(calc: Calculator) -> str:
    if calc.unit == "points":
        return "Points per item of the score; their sum is the result."
    if calc.risk_factors:
        ref = load("risk/treatment_effects").data["reference_profile"]
        return (
            "Terms of the linear predictor (coefficient × value); then, per modifiable factor, "
            "risk points: the risk now minus the risk with that factor alone at the reference "
            f"value ({ref['citation']})."
        )
    return (
        "Terms of the equation (coefficient × value, or ln of each factor); they add up on the "
        "equation's own scale (square root of the weekly dose; ln eGFR)."
    )
