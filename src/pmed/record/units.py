"""Unit conversion for laboratory and vital-sign values, driven by `units/conversions` knowledge.

Each analyte (total cholesterol, creatinine, HbA1c, …) has a canonical UCUM unit and affine
conversions `canonical = value * scale + offset` from every other supported unit; the factors and
their sources (molar masses; the IFCC-NGSP master equation for HbA1c, Hoelzel, Clin Chem 2004)
are documented in `tools/build_units.py`. LOINC codes of one analyte in different units
(e.g. 2093-3 mg/dL and 14647-2 mmol/L total cholesterol) are grouped so either can answer a
request for the other.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from pmed.errors import InputError
from pmed.knowledge import load

__all__ = ["Analyte", "analyte_for", "convert", "normalize_unit", "related_codes"]


@dataclass(frozen=True)
class Analyte:
    name: str
    canonical: str
    codes: dict[str, str]  # LOINC -> the unit that code is reported in
    units: dict[str, tuple[float, float]]  # unit -> (scale, offset) to canonical

    def to_canonical(self, value: float, unit: str) -> float:
        scale, offset = self.units[unit]
        return value * scale + offset

    def from_canonical(self, value: float, unit: str) -> float:
        scale, offset = self.units[unit]
        return (value - offset) / scale


@lru_cache(maxsize=1)
def _tables() -> tuple[dict[str, Analyte], dict[str, Analyte], dict[str, str]]:
    data = load("units/conversions").data
    by_name: dict[str, Analyte] = {}
    by_code: dict[str, Analyte] = {}
    for name, spec in data["analytes"].items():
        analyte = Analyte(
            name=name,
            canonical=spec["canonical"],
            codes=dict(spec["codes"]),
            units={u: (float(f["scale"]), float(f["offset"])) for u, f in spec["units"].items()},
        )
        by_name[name] = analyte
        for code in analyte.codes:
            by_code[code] = analyte
    aliases = {k.lower(): v for k, v in data["aliases"].items()}
    return by_name, by_code, aliases


def analyte_for(code: str) -> Analyte | None:
    """The analyte a LOINC code measures, or None when pmed has no conversions for it."""
    return _tables()[1].get(code)


def related_codes(code: str) -> tuple[str, ...]:
    """`code` first, then the other LOINC codes of the same analyte (other units/methods)."""
    analyte = analyte_for(code)
    if analyte is None:
        return (code,)
    return (code, *(c for c in analyte.codes if c != code))


def normalize_unit(unit: str | None) -> str | None:
    """The UCUM code for a unit as written in the wild (`µmol/L` → `umol/L`, `mmHg` → `mm[Hg]`)."""
    if unit is None:
        return None
    text = unit.strip()
    return _tables()[2].get(text.lower(), text)


def convert(value: float, unit: str | None, to: str, *, code: str) -> float:
    """Convert `value` in `unit` to `to` for the analyte of LOINC `code`.

    Raises `InputError` when the analyte or either unit is unknown: a wrong unit is bad data and
    must not become a silently wrong number.
    """
    src = normalize_unit(unit)
    dst = normalize_unit(to)
    if src == dst:
        return value
    analyte = analyte_for(code)
    if analyte is None:
        raise InputError(f"no unit conversions are known for LOINC {code} ({unit} → {to})")
    if src is None:
        src = analyte.codes.get(code)
    for u in (src, dst):
        if u not in analyte.units:
            raise InputError(
                f"unit {u!r} is not supported for {analyte.name.replace('_', ' ')} "
                f"(LOINC {code}); known: {', '.join(analyte.units)}"
            )
    assert src is not None and dst is not None
    return analyte.from_canonical(analyte.to_canonical(value, src), dst)
