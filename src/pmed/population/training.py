"""From an extracted cohort to what `pmed.models` trains on, with published calculators as
baselines scored on the same patients (e.g. PCE, Goff 2014, for 10-year ASCVD).

A definition's `baselines` maps a calculator name (`pmed.risk.calculator_names()`) to its input
names and the cohort columns that feed them; rows where an input is missing or out of the
calculator's declared range get no baseline score (NaN) rather than a guess.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from pmed.errors import InputError, KnowledgeError
from pmed.models.train import TrainingData
from pmed.population.features import GROUP_COLUMNS, FeatureSet

__all__ = ["baseline_scores", "to_training_data"]


def baseline_scores(fs: FeatureSet, name: str, mapping: dict[str, str]) -> np.ndarray:
    """Risk (0–1) from calculator `name` per row of `fs`; NaN where it cannot be computed."""
    from pmed.risk import get_calculator, score_columns

    try:
        calc = get_calculator(name)
    except (KnowledgeError, InputError, KeyError) as exc:
        raise InputError(f"unknown calculator {name!r}: {exc}", field=f"baselines.{name}") from None
    missing = [c for c in mapping.values() if c not in fs.frame.columns]
    if missing:
        raise InputError(
            f"baseline {name} maps to columns the cohort does not have: {', '.join(missing)}",
            field=f"baselines.{name}",
        )
    cols: dict[str, np.ndarray] = {}
    usable = np.ones(fs.n, dtype=bool)
    for spec in calc.inputs:
        column = mapping.get(spec.name)
        if column is None:
            if not spec.optional:
                raise InputError(f"baseline {name} needs input {spec.name!r}",
                                 field=f"baselines.{name}")  # fmt: skip
            continue
        series = fs.frame[column]
        if spec.kind == "choice":
            values = np.asarray(series.cast(pl.Utf8).fill_null("").to_numpy(), dtype=str)
            usable &= np.isin(values, spec.choices)
            cols[spec.name] = np.where(np.isin(values, spec.choices), values, spec.choices[0])
            continue
        values = series.cast(pl.Float64).to_numpy().astype(float)
        ok = ~np.isnan(values)
        if spec.low is not None:
            ok &= values >= spec.low
        if spec.high is not None:
            ok &= values <= spec.high
        usable &= ok
        filler = spec.low if spec.low is not None else 0.0
        values = np.where(ok, values, filler)
        cols[spec.name] = values.astype(bool) if spec.kind == "flag" else values
    out = np.full(fs.n, np.nan)
    if usable.any():
        scored = score_columns(name, {k: v[usable] for k, v in cols.items()})
        out[usable] = np.asarray(scored, dtype=float) / (100.0 if calc.unit == "%" else 1.0)
    return out


def to_training_data(fs: FeatureSet) -> TrainingData:
    """The arrays, groups, documentation and provenance `pmed.models.develop` needs."""
    d = fs.definition
    if "outcome" not in fs.frame.columns:
        raise InputError("this extraction has no outcome labels (extracted for prediction)")
    baselines: dict[str, np.ndarray] = {}
    for name, mapping in d.baselines.items():
        baselines[name] = baseline_scores(fs, name, mapping)
    audit: dict[str, Any] = d.audit.model_dump()
    groups = {
        g: np.asarray(fs.frame[g].to_numpy(), dtype=str)
        for g in GROUP_COLUMNS
        if g in d.audit.attributes
    }
    return TrainingData(
        name=d.name,
        title=d.title or d.name,
        x=fs.matrix(),
        y=fs.outcome(),
        feature_names=fs.feature_names,
        ids=fs.frame["patient_id"].to_list(),
        groups=groups,
        baselines=baselines,
        feature_dictionary=fs.dictionary(),
        cohort=d.model_dump(mode="json"),
        fingerprint=fs.fingerprint(),
        attrition=fs.attrition,
        seed=d.seed,
        test_fraction=d.test_fraction,
        audit=audit,
        labels={f.name: f.label for f in fs.features},
        units={f.name: f.unit for f in fs.features if f.unit},
    )
