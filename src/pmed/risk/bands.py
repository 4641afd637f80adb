"""Banded point tables shared by the point scores (FINDRISC, CHA2DS2-VASc, NEWS2, ...).

A table is a list of bands read from knowledge data: the first band has no bound, each later band
has `op` ("ge" or "gt") and `bound`; a value scores the points of the last band whose condition
holds. `points` is the one-patient path, `points_columns` the numpy path; both read the same table.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from pmed.findings import Contribution

__all__ = ["band_from", "band_from_columns", "item", "points", "points_columns"]


def _holds(op: str, value: float, bound: float) -> bool:
    if op == "ge":
        return value >= bound
    if op == "gt":
        return value > bound
    raise ValueError(f"unknown band operator {op!r}")


def points(table: Sequence[Mapping[str, Any]], value: float) -> int:
    """Points of `value` in one banded table."""
    result = int(table[0]["points"])
    for band in table[1:]:
        if _holds(band["op"], value, band["bound"]):
            result = int(band["points"])
    return result


def points_columns(table: Sequence[Mapping[str, Any]], values: np.ndarray) -> np.ndarray:
    """Points per row of a column (NaN rows stay NaN)."""
    out = np.full(values.shape, float(table[0]["points"]))
    for band in table[1:]:
        hit = values >= band["bound"] if band["op"] == "ge" else values > band["bound"]
        out = np.where(hit, float(band["points"]), out)
    return np.where(np.isnan(values), np.nan, out)


def band_from(bands: Sequence[Mapping[str, Any]], score: float) -> Mapping[str, Any]:
    """The last band (sorted by `from`) whose `from` is <= score."""
    chosen = bands[0]
    for band in bands:
        if score >= band["from"]:
            chosen = band
    return chosen


def band_from_columns(bands: Sequence[Mapping[str, Any]], scores: np.ndarray) -> np.ndarray:
    """Index of `band_from`'s band per row (-1 for NaN)."""
    lows = np.array([b["from"] for b in bands], dtype=float)
    idx = np.searchsorted(lows, scores, side="right") - 1
    return np.where(np.isnan(scores), -1, idx)


def item(factor: str, value: Any, points: float) -> Contribution:
    """One item of a point score, as the contribution its explanation lists."""
    return Contribution(factor=factor, value=value, contribution=float(points), unit="points")
