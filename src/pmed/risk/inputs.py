"""Declared calculator inputs: name, unit, valid range and where in the record each comes from.

Every calculator lists its inputs once as `InputSpec`s. The same declaration validates a single
patient's values (`validate`), columns of a whole population (`validate_columns`), names what is
missing for a missing-data finding, and tells `pmed.risk.from_record` which record code to read.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from pmed.errors import InputError

__all__ = ["InputSpec", "flag", "number", "option", "validate", "validate_columns"]

_TRUE = {"true", "yes", "y", "1", "on", "t"}
_FALSE = {"false", "no", "n", "0", "off", "f"}


@dataclass(frozen=True)
class InputSpec:
    """One input of a calculator.

    `low`–`high` is the range a value must lie in (else `InputError` quoting it); `applies`, when
    set, is the narrower range in which the equation is valid: outside it the calculator says so
    instead of giving a number (PCE ages 40–79). `source` names the record code the value comes
    from (LOINC, SNOMED CT, RxNorm, a code-set name, or a Patient element).
    """

    name: str
    description: str
    kind: str = "number"  # number | flag | choice
    unit: str | None = None
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()
    source: str = ""
    optional: bool = False
    applies: tuple[float, float] | None = None

    def range_text(self) -> str:
        unit = f" {self.unit}" if self.unit else ""
        if self.kind == "choice":
            return "one of " + ", ".join(self.choices)
        if self.kind == "flag":
            return "true or false"
        return f"{_fmt(self.low)}–{_fmt(self.high)}{unit}"

    def describe(self) -> str:
        """`name (unit; source)`, for messages that name a missing input."""
        bits = [b for b in (self.unit, self.source) if b]
        return f"{self.name} ({'; '.join(bits)})" if bits else self.name

    def coerce(self, raw: Any) -> Any:
        """One raw value (JSON, CLI text, record value) → the typed value, or `InputError`."""
        if self.kind == "flag":
            return _to_flag(self.name, raw)
        if self.kind == "choice":
            text = str(raw).strip().lower()
            if text not in self.choices:
                raise InputError(
                    f"{self.name} must be {self.range_text()}, got {raw!r}", field=self.name
                )
            return text
        value = _to_number(self.name, raw)
        if (self.low is not None and value < self.low) or (
            self.high is not None and value > self.high
        ):
            raise InputError(
                f"{self.name} {_fmt(value)} is outside the valid range {self.range_text()}",
                field=self.name,
            )
        return value


def number(
    name: str,
    description: str,
    unit: str | None,
    low: float,
    high: float,
    source: str = "",
    *,
    optional: bool = False,
    applies: tuple[float, float] | None = None,
) -> InputSpec:
    return InputSpec(name, description, "number", unit, low, high, (), source, optional, applies)


def flag(name: str, description: str, source: str = "", *, optional: bool = False) -> InputSpec:
    return InputSpec(name, description, "flag", source=source, optional=optional)


def option(
    name: str, description: str, choices: Iterable[str], source: str = "", *, optional: bool = False
) -> InputSpec:
    return InputSpec(
        name, description, "choice", choices=tuple(choices), source=source, optional=optional
    )


def _fmt(value: float | None) -> str:
    if value is None:
        return "∞"
    return f"{value:g}"


def _is_missing(raw: Any) -> bool:
    if raw is None:
        return True
    if isinstance(raw, float) and math.isnan(raw):
        return True
    return isinstance(raw, str) and raw.strip() == ""


def _to_flag(name: str, raw: Any) -> bool:
    if isinstance(raw, bool | np.bool_):
        return bool(raw)
    if isinstance(raw, int | float) and raw in (0, 1):
        return bool(raw)
    text = str(raw).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise InputError(f"{name} must be true or false, got {raw!r}", field=name)


def _to_number(name: str, raw: Any) -> float:
    if isinstance(raw, bool):
        raise InputError(f"{name} must be a number, got {raw!r}", field=name)
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a number, got {raw!r}", field=name) from None
    if not math.isfinite(value):
        raise InputError(f"{name} must be a finite number, got {raw!r}", field=name)
    return value


def validate(
    specs: Iterable[InputSpec], values: Mapping[str, Any]
) -> tuple[dict[str, Any], list[InputSpec]]:
    """Typed values for the declared inputs, and the required inputs that are missing.

    Keys that are not declared inputs are ignored (a record yields more than any one calculator
    needs); optional inputs that are absent are simply left out.
    """
    clean: dict[str, Any] = {}
    missing: list[InputSpec] = []
    for spec in specs:
        raw = values.get(spec.name)
        if _is_missing(raw):
            if not spec.optional:
                missing.append(spec)
            continue
        clean[spec.name] = spec.coerce(raw)
    return clean, missing


def validate_columns(
    specs: Iterable[InputSpec], columns: Mapping[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """Check whole columns against the declared ranges and choices; NaN means missing.

    Returns the columns as numpy arrays (flags as float 0/1 with NaN for missing, choices as
    lower-case strings). Refuses, naming the first offending row, when a value is out of range.
    """
    out: dict[str, np.ndarray] = {}
    for spec in specs:
        if spec.name not in columns:
            if spec.optional:
                continue
            raise InputError(
                f"column {spec.name!r} is missing ({spec.describe()})", field=spec.name
            )
        col = np.asarray(columns[spec.name])
        if spec.kind == "choice":
            text = col if col.dtype.kind == "U" else col.astype(str)
            bad = ~_in_choices(text, spec.choices)
            if bad.any():  # lower-case only when needed: it is the slow path
                text = np.char.lower(text)
                bad = ~_in_choices(text, spec.choices)
            if bad.any():
                row = int(np.argmax(bad))
                raise InputError(
                    f"{spec.name} must be {spec.range_text()}, got {col[row]!r}",
                    field=spec.name,
                    entry=row,
                )
            out[spec.name] = text
            continue
        if col.dtype.kind in "OUS":
            col = np.array([_column_cell(spec, v) for v in col], dtype=float)
        else:
            col = col.astype(float, copy=False)
        if spec.kind == "flag":
            bad = ~(np.isnan(col) | (col == 0) | (col == 1))
            if bad.any():
                row = int(np.argmax(bad))
                raise InputError(f"{spec.name} must be true or false", field=spec.name, entry=row)
        else:
            with np.errstate(invalid="ignore"):
                bad = np.zeros(col.shape, dtype=bool)
                if spec.low is not None:
                    bad |= col < spec.low
                if spec.high is not None:
                    bad |= col > spec.high
            if bad.any():
                row = int(np.argmax(bad))
                raise InputError(
                    f"{spec.name} {_fmt(float(col[row]))} is outside the valid range "
                    f"{spec.range_text()}",
                    field=spec.name,
                    entry=row,
                )
        out[spec.name] = col
    return out


def _in_choices(text: np.ndarray, choices: tuple[str, ...]) -> np.ndarray:
    ok = np.zeros(text.shape, dtype=bool)
    for value in (*choices, "", "nan", "none", "None"):
        ok |= text == value
    return ok


def _column_cell(spec: InputSpec, raw: Any) -> float:
    if _is_missing(raw):
        return math.nan
    return float(_to_flag(spec.name, raw)) if spec.kind == "flag" else _to_number(spec.name, raw)
