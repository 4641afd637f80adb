"""Duplicate therapy: a draft order for a drug the patient already takes, or for a second drug of
a class where two at once only add harm (`care/duplicates`: statins — one statin at the chosen
intensity, 2018 AHA/ACC cholesterol guideline; anticoagulants — combined anticoagulants multiply
bleeding, 2023 ACC/AHA/ACCP/HRS AF guideline section 6.3). Draft orders only: the record's own
active list is the clinician's to reconcile.
"""

from __future__ import annotations

from pmed.care.context import CareContext
from pmed.care.model import Recommendation
from pmed.findings import Evidence, Severity
from pmed.knowledge import load
from pmed.record.codesets import medication_set

__all__ = ["duplicate_rules"]


def duplicate_rules(ctx: CareContext) -> list[Recommendation]:
    classes = load("care/duplicates").data["classes"]
    out: list[Recommendation] = []
    for draft in ctx.drafts:
        for active in ctx.active:
            same = sorted(set(draft.names) & set(active.names))
            klass = next(
                (
                    c
                    for c in sorted(classes)
                    if any(medication_set(c).matches_text(n) for n in draft.names)
                    and any(medication_set(c).matches_text(n) for n in active.names)
                ),
                None,
            )
            if not same and klass is None:
                continue
            what = same[0] if same else medication_set(str(klass)).title.lower()
            reason = "the same drug" if same else classes[klass]
            out.append(
                Recommendation(
                    key=f"duplicate:{draft.reference}",
                    topic="duplicate",
                    title=f"Duplicate therapy: {draft.display} ordered; already on "
                    f"{active.display}"[:139],
                    action="avoid",
                    detail=f"Therapeutic duplication ({what}): {reason}. Cancel the new order "
                    "or stop the active one.",
                    severity=Severity.HIGH,
                    rationale=[f"draft {draft.reference}", f"active {active.reference}"],
                    evidence=[
                        Evidence(
                            title=medication_set(klass).source
                            if klass
                            else "pmed duplicate therapy rule: same ingredient ordered twice",
                            detail=reason,
                        )
                    ],
                    order_ref=draft.reference,
                    patient_text="Two medicines that do the same job were ordered. Your "
                    "clinician will keep just one.",
                    rules=["duplicate therapy"],
                    details={"active": active.reference, "same_drug": bool(same)},
                )
            )
            break
    return out
