"""NEWS2: the National Early Warning Score 2 for acute illness in adults.

Royal College of Physicians. National Early Warning Score (NEWS) 2: Standardising the assessment
of acute-illness severity in the NHS. London: RCP, 2017. Chart 1 (the scoring system: respiration
rate, SpO2 on scale 1 or — for hypercapnic respiratory failure, on a clinician's decision —
scale 2, air or oxygen, systolic BP, pulse, consciousness (ACVPU), temperature) and Chart 2 /
Table 1 (clinical risk and response: 0–4 low; a single parameter scoring 3 low-medium; 5–6
medium; >= 7 high). On scale 2, SpO2 >= 93% scores 0 on air but 1–3 on oxygen.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import numpy as np

from pmed.findings import Code, Contribution, Evidence, FindingKind, Severity
from pmed.knowledge import load
from pmed.risk import input_catalog as ic
from pmed.risk.bands import band_from, item, points, points_columns
from pmed.risk.calculator import PMED_RISK_SYSTEM, Calculator, Evaluation
from pmed.risk.inputs import flag, number, option

__all__ = ["News2"]

CONSCIOUSNESS = ("alert", "confusion", "voice", "pain", "unresponsive")


class News2(Calculator):
    """NEWS2 (RCP 2017)."""

    name = "news2"
    title = "NEWS2 National Early Warning Score (Royal College of Physicians 2017)"
    unit = "points"
    kind = FindingKind.SCORE
    code = Code(system=PMED_RISK_SYSTEM, code="news2", display=title)
    inputs = (
        ic.RR,
        number("spo2", "oxygen saturation", "%", 50, 100, "LOINC 59408-5 or 2708-6"),
        option(
            "scale",
            "SpO2 scale (2 = hypercapnic respiratory failure, target 88–92%)",
            ("1", "2"),
            "clinician decision (default 1)",
            optional=True,
        ),
        flag("on_oxygen", "on supplemental oxygen", "LOINC 3151-8 / 3150-0 (inhaled O2)"),
        replace(ic.SBP, low=30, high=300),
        number("hr", "pulse rate", "/min", 10, 300, "LOINC 8867-4"),
        option(
            "consciousness",
            "level of consciousness (ACVPU)",
            CONSCIOUSNESS,
            "LOINC 67775-7 (level of responsiveness)",
        ),
        number("temp", "temperature", "Cel", 25, 45, "LOINC 8310-5"),
    )
    evidence = (
        Evidence(
            title="Royal College of Physicians. National Early Warning Score (NEWS) 2. "
            "London: RCP, 2017, Chart 1 and Table 1",
            url="https://www.rcp.ac.uk/improving-care/resources/national-early-warning-score-news-2/",
        ),
    )
    knowledge = ("risk/news2",)

    def _items(self, x: Mapping[str, Any]) -> list[Contribution]:
        k = load("risk/news2").data
        if x.get("scale", "1") == "2":
            spo2_table = k["spo2_scale2_oxygen"] if x["on_oxygen"] else k["spo2_scale2_air"]
        else:
            spo2_table = k["spo2_scale1"]
        return [
            item("rr", x["rr"], points(k["rr"], x["rr"])),
            item("spo2", x["spo2"], points(spo2_table, x["spo2"])),
            item("on_oxygen", x["on_oxygen"], k["on_oxygen"] if x["on_oxygen"] else 0),
            item("sbp", x["sbp"], points(k["sbp"], x["sbp"])),
            item("hr", x["hr"], points(k["hr"], x["hr"])),
            item("consciousness", x["consciousness"], k["consciousness"][x["consciousness"]]),
            item("temp", x["temp"], points(k["temp"], x["temp"])),
        ]

    def evaluate(self, x: Mapping[str, Any], **options: Any) -> Evaluation:
        k = load("risk/news2").data
        items = self._items(x)
        score = sum(c.contribution for c in items)
        red = [c.factor for c in items if c.contribution >= 3]
        band = dict(band_from(k["responses"], score))
        if red and score < 5:
            band = dict(k["single_parameter_3"])
        return Evaluation(
            value=float(score),
            terms=items,
            summary=f"NEWS2 {score:g}: {band['band']} clinical risk; {band['response']}"
            + (f" (score 3 in {', '.join(red)})" if red else ""),
            severity=Severity(band["severity"]),
            band=str(band["band"]),
            details={
                "response": band["response"],
                "single_parameter_3": red,
                "scale": x.get("scale", "1"),
            },
        )

    def evaluate_columns(self, cols: Mapping[str, np.ndarray], **options: Any) -> np.ndarray:
        k = load("risk/news2").data
        n = cols["rr"].shape[0]
        scale2 = cols["scale"] == "2" if "scale" in cols else np.zeros(n, dtype=bool)
        oxygen = cols["on_oxygen"]
        spo2 = cols["spo2"]
        spo2_pts = np.where(
            scale2,
            np.where(
                oxygen == 1,
                points_columns(k["spo2_scale2_oxygen"], spo2),
                points_columns(k["spo2_scale2_air"], spo2),
            ),
            points_columns(k["spo2_scale1"], spo2),
        )
        conscious = np.full(n, np.nan)
        for level, pts in k["consciousness"].items():
            conscious = np.where(cols["consciousness"] == level, float(pts), conscious)
        return np.asarray(
            points_columns(k["rr"], cols["rr"])
            + spo2_pts
            + oxygen * k["on_oxygen"]
            + points_columns(k["sbp"], cols["sbp"])
            + points_columns(k["hr"], cols["hr"])
            + conscious
            + points_columns(k["temp"], cols["temp"])
        )
