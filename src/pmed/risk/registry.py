"""Calculators by name (`pce`, `prevent`, ... `warfarin-iwpc`), imported when first needed."""

from __future__ import annotations

import importlib
from functools import cache

from pmed.errors import InputError
from pmed.risk.calculator import Calculator

__all__ = ["calculator_names", "get_calculator"]

_CALCULATORS = {
    "pce": "pmed.risk.pce:PooledCohort",
    "pce-revised": "pmed.risk.pce_revised:RevisedPooledCohort",
    "prevent": "pmed.risk.prevent:Prevent",
    "framingham-cvd": "pmed.risk.framingham:FraminghamCVD",
    "findrisc": "pmed.risk.findrisc:Findrisc",
    "cha2ds2-vasc": "pmed.risk.cha2ds2_vasc:Cha2ds2Vasc",
    "has-bled": "pmed.risk.has_bled:HasBled",
    "egfr-ckd-epi-2021": "pmed.risk.egfr:EgfrCkdEpi2021",
    "news2": "pmed.risk.news2:News2",
    "qsofa": "pmed.risk.qsofa:Qsofa",
    "warfarin-iwpc": "pmed.dosing.warfarin_iwpc:WarfarinIwpc",
}


def calculator_names() -> list[str]:
    return list(_CALCULATORS)


@cache
def get_calculator(name: str) -> Calculator:
    """The calculator called `name`; `InputError` naming the known ones otherwise."""
    target = _CALCULATORS.get(name)
    if target is None:
        known = ", ".join(_CALCULATORS)
        raise InputError(f"unknown calculator {name!r}; known: {known}", field="name")
    module, cls = target.split(":")
    calculator = getattr(importlib.import_module(module), cls)()
    assert isinstance(calculator, Calculator)
    return calculator
