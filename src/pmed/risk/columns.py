"""Column input for population scoring: a Polars DataFrame or a mapping of array-likes → numpy."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

__all__ = ["as_columns", "is_value"]


def as_columns(data: Any) -> dict[str, np.ndarray]:
    """Columns as numpy arrays, from a Polars DataFrame or a mapping of sequences/arrays."""
    if hasattr(data, "get_column") and hasattr(data, "columns"):  # polars.DataFrame
        return {name: _polars_to_numpy(data.get_column(name)) for name in data.columns}
    if isinstance(data, Mapping):
        cols = {str(k): np.asarray(v) for k, v in data.items()}
        lengths = {len(v) for v in cols.values() if v.ndim == 1}
        if len(lengths) > 1:
            from pmed.errors import InputError

            raise InputError(f"columns have different lengths: {sorted(lengths)}")
        return cols
    from pmed.errors import InputError

    raise InputError("columns must be a Polars DataFrame or a mapping of column name → values")


def _polars_to_numpy(series: Any) -> np.ndarray:
    dtype = str(series.dtype)
    if dtype == "Boolean":
        return np.asarray(series.cast(float).to_numpy(), dtype=float)
    if dtype in ("String", "Utf8", "Categorical", "Enum"):
        return np.asarray(series.cast(str).fill_null("").to_numpy(), dtype=str)
    return np.asarray(series.to_numpy())


def is_value(cols: Mapping[str, np.ndarray], name: str, value: str) -> np.ndarray:
    """Boolean column: the choice column `name` equals `value`."""
    return np.asarray(cols[name] == value)
