"""Scoring columns agrees with scoring one patient at a time (10,000 random valid inputs each)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import polars as pl
import pytest

from pmed.errors import InputError
from pmed.risk import calculator_names, get_calculator, score_columns
from pmed.risk.inputs import validate
from tests.risk.builders import pce_inputs

N = 10_000


def random_columns(name: str, n: int, seed: int) -> dict[str, np.ndarray]:
    """Random valid inputs drawn from each calculator's own declarations (optional ones missing
    30% of the time; numbers rounded to 1 decimal so band edges are hit)."""
    rng = np.random.default_rng(seed)
    cols: dict[str, np.ndarray] = {}
    for spec in get_calculator(name).inputs:
        if spec.kind == "number":
            assert spec.low is not None and spec.high is not None
            values = np.round(rng.uniform(spec.low, spec.high, n), 1)
            values = np.clip(values, spec.low, spec.high)
            if spec.optional:
                values = np.where(rng.random(n) < 0.3, np.nan, values)
            cols[spec.name] = values
        elif spec.kind == "flag":
            cols[spec.name] = (rng.random(n) < 0.5).astype(float)
        else:
            choices = np.array(spec.choices + (("",) if spec.optional else ()), dtype=object)
            cols[spec.name] = choices[rng.integers(0, len(choices), n)].astype(str)
    return cols


def _row(cols: dict[str, np.ndarray], i: int) -> dict[str, Any]:
    row: dict[str, Any] = {}
    for key, col in cols.items():
        value = col[i]
        if isinstance(value, str):
            if value:
                row[key] = value
        elif not math.isnan(float(value)):
            row[key] = float(value)
    return row


@pytest.mark.parametrize("name", calculator_names())
def test_scalar_and_vectorised_agree_on_10000_random_valid_inputs(name: str) -> None:
    calc = get_calculator(name)
    cols = random_columns(name, N, seed=sum(map(ord, name)))
    vector = score_columns(name, cols)
    scalar = np.empty(N)
    for i in range(N):
        clean, missing = validate(calc.inputs, _row(cols, i))
        assert not missing
        value = calc.evaluate(clean).value
        scalar[i] = np.nan if value is None else value
    np.testing.assert_allclose(vector, scalar, rtol=1e-9, atol=1e-9, equal_nan=True)
    assert np.isfinite(vector).mean() > 0.3  # most rows score (PCE: ages outside 40–79 are N/A)


@pytest.mark.parametrize("horizon", [10, 30])
@pytest.mark.parametrize("endpoint", ["ascvd", "hf", "chd", "stroke"])
def test_prevent_columns_agree_for_every_endpoint_and_horizon(endpoint: str, horizon: int) -> None:
    calc = get_calculator("prevent")
    cols = random_columns("prevent", 500, seed=horizon)
    vector = score_columns("prevent", cols, horizon=horizon, endpoint=endpoint)
    for i in range(500):
        clean, _ = validate(calc.inputs, _row(cols, i))
        ev = calc.evaluate(clean, horizon=horizon, endpoint=endpoint)
        expected = np.nan if ev.value is None else ev.value
        assert vector[i] == pytest.approx(expected, rel=1e-9, nan_ok=True)


def test_polars_frame_is_accepted_and_matches_the_guideline_example() -> None:
    frame = pl.DataFrame(
        {
            "age": [55, 55, 55, 55, 35],
            "sex": ["female", "female", "male", "male", "male"],
            "race": ["white", "black", "white", "black", "white"],
            "tc": [213] * 5,
            "hdl": [50] * 5,
            "sbp": [120] * 5,
            "bp_treated": [False] * 5,
            "smoker": [False] * 5,
            "diabetes": [False] * 5,
        }
    )
    risks = score_columns("pce", frame)
    assert list(np.round(risks[:4], 1)) == [2.1, 3.0, 5.4, 6.1]
    assert math.isnan(risks[4])  # age 35: outside 40–79


def test_missing_values_in_columns_give_nan_rows() -> None:
    cols = {k: [v, v] for k, v in pce_inputs().items()}
    cols["tc"] = [213, None]
    risks = score_columns("pce", cols)
    assert risks[0] == pytest.approx(2.05, abs=0.01)
    assert math.isnan(risks[1])


def test_out_of_range_column_is_refused_naming_the_row_and_range() -> None:
    cols = {k: [v, v, v] for k, v in pce_inputs().items()}
    cols["sbp"] = [120, 250, 130]
    with pytest.raises(InputError, match=r"sbp 250 is outside the valid range 90–200 mmHg") as err:
        score_columns("pce", cols)
    assert err.value.entry == 1


def test_missing_column_is_refused_naming_it() -> None:
    cols = {k: [v] for k, v in pce_inputs().items() if k != "hdl"}
    with pytest.raises(InputError, match="column 'hdl' is missing"):
        score_columns("pce", cols)
