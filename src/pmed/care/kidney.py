"""Kidney: eGFR stage flags and renal-dose warnings.

eGFR by CKD-EPI 2021 (Inker LA et al. N Engl J Med 2021;385:1737-1749), staged by KDIGO 2012
(Kidney Int Suppl 2013;3:1-150, Table 5): G1 ≥ 90, G2 60–89, G3a 45–59, G3b 30–44, G4 15–29,
G5 < 15 mL/min/1.73 m². Stages G3a and worse are flagged; KDIGO defines CKD by a reduced GFR
lasting over 3 months, which one value cannot show, so the flag says so.

Renal-dose warnings come from the small cited list `care/renal_dosing` (FDA labels, AGS Beers
2023, KDIGO 2012, ACR 2020), built by `tools/build_care_knowledge.py`. Where the source states
creatinine clearance, eGFR is used as an approximation and the recommendation says so.
"""

from __future__ import annotations

from typing import Any

from pmed.care.context import CareContext
from pmed.care.model import Alternative, Recommendation
from pmed.findings import Code, Evidence, Severity
from pmed.knowledge import load

__all__ = ["egfr_stage", "kidney_rules"]

RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
KDIGO = Evidence(
    title="KDIGO 2012 Clinical Practice Guideline for the Evaluation and Management of Chronic "
    "Kidney Disease. Kidney Int Suppl 2013;3:1-150, Table 5 (GFR categories)",
    url="https://kdigo.org/guidelines/ckd-evaluation-and-management/",
)
_STAGES = ((90, "G1"), (60, "G2"), (45, "G3a"), (30, "G3b"), (15, "G4"), (0, "G5"))
_PLAIN_STAGE = {
    "G3a": "Your kidneys filter a bit less than normal.",
    "G3b": "Your kidneys filter clearly less than normal.",
    "G4": "Your kidneys filter much less than normal.",
    "G5": "Your kidneys filter very little.",
}


def egfr_stage(egfr: float) -> str:
    """KDIGO G category for an eGFR in mL/min/1.73 m² (KDIGO 2012, Table 5)."""
    for floor, stage in _STAGES:
        if egfr >= floor:
            return stage
    return "G5"


def _renal_entry(name: str) -> dict[str, Any] | None:
    for entry in load("care/renal_dosing").data["drugs"]:
        if name in (entry.get("names") or [entry["drug"]]):
            return dict(entry)
    return None


def _code(entry: dict[str, Any], name: str) -> str:
    names = entry.get("names") or [entry["drug"]]
    return str(entry["rxnorm"][names.index(name)])


def kidney_rules(ctx: CareContext) -> list[Recommendation]:
    egfr = ctx.value("egfr")
    if egfr is None:
        return []
    egfr = float(egfr)
    source = ctx.source("egfr")
    stage = egfr_stage(egfr)
    out: list[Recommendation] = []
    if egfr < 60:
        severe = egfr < 30
        out.append(
            Recommendation(
                key="kidney:stage",
                topic="kidney",
                title=f"eGFR {egfr:g} mL/min/1.73m² (KDIGO {stage}): reduced kidney function",
                action="monitor",
                detail="Confirm with a repeat value over 3 months (KDIGO defines CKD by "
                "persistence); check albuminuria (UACR) and review renally cleared drugs.",
                severity=Severity.HIGH if severe else Severity.MODERATE,
                rationale=[f"eGFR {egfr:g} ({source})"],
                evidence=[KDIGO],
                patient_text=_PLAIN_STAGE.get(stage, "")
                + " Some medicines need a smaller dose or a switch.",
                rules=["kidney stage (KDIGO 2012)"],
                details={"egfr": egfr, "stage": stage},
            )
        )
    seen: set[str] = set()
    for use in ctx.medications():
        for name in use.names:
            entry = _renal_entry(name)
            if entry is None or name in seen:
                continue
            rule = next((r for r in entry["rules"] if egfr < r["below"]), None)
            if rule is None:
                continue
            seen.add(name)
            approx = "" if entry["basis"].startswith("eGFR") or "CKD" in entry["basis"] else (
                f" ({entry['basis']})"
            )  # fmt: skip
            severity = Severity.HIGH if rule["action"] == "avoid" else Severity.MODERATE
            alternatives = []
            if rule.get("dose") and use.draft:
                alternatives.append(
                    Alternative(drug=name, dose=rule["dose"], note=rule["text"], recommended=True)
                )
            out.append(
                Recommendation(
                    key=f"renal:{name}",
                    topic="kidney",
                    title=f"{name.capitalize()} at eGFR {egfr:g}: {rule['text']}"[:139],
                    action=rule["action"],
                    detail=f"{rule['text']}{approx}. Source: {entry['source']}.",
                    severity=severity,
                    rationale=[f"eGFR {egfr:g} ({source})", f"{use.display} ({use.reference})"],
                    evidence=[Evidence(title=entry["source"], url=entry["url"])],
                    drug=Code(system=RXNORM, code=_code(entry, name), display=name),
                    alternatives=alternatives,
                    order_ref=use.reference if use.draft else None,
                    patient_text=rule["patient"],
                    rules=["renal dose (care/renal_dosing)"],
                    details={"egfr": egfr, "threshold": rule["below"], "basis": entry["basis"]},
                )
            )
    return out
