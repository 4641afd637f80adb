"""Dose calculators: the IWPC warfarin dose (pharmacogenetic and clinical algorithms).

Dosing builds on `pmed.risk`'s calculator framework; `pmed.risk.calculate("warfarin-iwpc", ...)`
runs it with explanation and provenance like any risk calculator.
"""

from __future__ import annotations

from pmed.dosing.warfarin_iwpc import WarfarinIwpc

__all__ = ["WarfarinIwpc"]
