"""qSOFA: quick Sequential Organ Failure Assessment, bedside sepsis risk.

Seymour CW, Liu VX, Iwashyna TJ, et al. Assessment of clinical criteria for sepsis.
JAMA 2016;315:762-774; Singer M et al. The Third International Consensus Definitions for Sepsis
(Sepsis-3), JAMA 2016;315:801-810, Box 4: respiratory rate >= 22/min, altered mentation,
systolic BP <= 100 mm Hg, one point each; >= 2 identifies higher risk of a poor outcome.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import numpy as np

from pmed.findings import Code, Evidence, FindingKind, Severity
from pmed.knowledge import load
from pmed.risk import input_catalog as ic
from pmed.risk.bands import item
from pmed.risk.calculator import PMED_RISK_SYSTEM, Calculator, Evaluation
from pmed.risk.inputs import flag

__all__ = ["Qsofa"]


class Qsofa(Calculator):
    """qSOFA (Seymour 2016)."""

    name = "qsofa"
    title = "qSOFA sepsis risk (Seymour 2016, Sepsis-3)"
    unit = "points"
    kind = FindingKind.SCORE
    code = Code(system=PMED_RISK_SYSTEM, code="qsofa", display=title)
    inputs = (
        ic.RR,
        replace(ic.SBP, low=30, high=300),
        flag("altered_mentation", "altered mentation (GCS < 15)", "LOINC 9269-2 (GCS) < 15"),
    )
    evidence = (
        Evidence(
            title="Seymour CW et al. Assessment of clinical criteria for sepsis. "
            "JAMA 2016;315:762-774",
            url="https://doi.org/10.1001/jama.2016.0288",
        ),
    )
    knowledge = ("risk/qsofa",)

    def evaluate(self, x: Mapping[str, Any], **options: Any) -> Evaluation:
        k = load("risk/qsofa").data
        items = [
            item("rr", x["rr"], 1 if x["rr"] >= k["rr_at_least"] else 0),
            item("sbp", x["sbp"], 1 if x["sbp"] <= k["sbp_at_most"] else 0),
            item("altered_mentation", x["altered_mentation"], 1 if x["altered_mentation"] else 0),
        ]
        score = sum(c.contribution for c in items)
        positive = score >= k["positive_from"]
        return Evaluation(
            value=float(score),
            terms=items,
            summary=f"qSOFA {score:g}/3: "
            + ("positive, higher risk of poor outcome from sepsis" if positive else "negative"),
            severity=Severity.HIGH if positive else Severity.LOW,
            band="positive" if positive else "negative",
        )

    def evaluate_columns(self, cols: Mapping[str, np.ndarray], **options: Any) -> np.ndarray:
        k = load("risk/qsofa").data
        rr, sbp = cols["rr"], cols["sbp"]
        score = (rr >= k["rr_at_least"]).astype(float) + (sbp <= k["sbp_at_most"])
        score = score + cols["altered_mentation"]
        return np.where(np.isnan(rr) | np.isnan(sbp), np.nan, score)
