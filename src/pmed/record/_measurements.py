"""Numeric values of Observations as `Measurement`s, and their unit conversion."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from pmed.errors import InputError
from pmed.record import units
from pmed.record._fhirvalues import codings
from pmed.record.view_types import Measurement

__all__ = ["converted", "measurement", "sort_key"]

LOINC = "http://loinc.org"


def _loinc(concept: Any) -> tuple[str | None, str | None]:
    found = codings(concept)
    for c in found:
        if c.system == LOINC and c.code:
            return c.code, c.display
    for c in found:
        if c.code:
            return c.code, c.display
    return None, None


def measurement(
    element: Mapping[str, Any], concept: Any, when: datetime | None, ref: str
) -> Measurement | None:
    code, display = _loinc(concept)
    if code is None:
        return None
    if isinstance(element.get("valueQuantity"), Mapping):
        quantity = element["valueQuantity"]
        value = quantity.get("value")
        ucum = quantity.get("system") == "http://unitsofmeasure.org"
        unit = units.normalize_unit(
            (quantity.get("code") if ucum else None) or quantity.get("unit") or quantity.get("code")
        )
    elif isinstance(element.get("valueInteger"), int):
        value, unit = element["valueInteger"], None
    else:
        return None
    if not isinstance(value, int | float) or isinstance(value, bool):
        return None
    return Measurement(
        code=code,
        value=float(value),
        unit=unit,
        date=when,
        reference=ref,
        display=display or (concept or {}).get("text"),
        original_value=float(value),
        original_unit=unit,
    )


def converted(m: Measurement, code: str, unit: str | None) -> Measurement:
    """`m` relabelled to the asked-for `code` and converted to `unit` (when given)."""
    if unit is None and m.code == code:
        return m
    target, value = m.unit, m.value
    if unit is not None:
        target = units.normalize_unit(unit) or unit
        try:
            value = units.convert(m.value, m.unit, target, code=m.code)
        except InputError as exc:
            raise exc.located(field=f"{m.reference}.valueQuantity") from None
    return Measurement(
        code=code,
        value=value,
        unit=target,
        date=m.date,
        reference=m.reference,
        display=m.display,
        original_value=m.original_value,
        original_unit=m.original_unit,
        original_code=m.code if m.code != code else m.original_code,
    )


def sort_key(item: Any) -> tuple[datetime, str]:
    when = item.date or datetime.min.replace(tzinfo=UTC)
    return when, item.reference
