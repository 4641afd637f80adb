"""Diabetes: screening from FINDRISC, with what-if statements for the modifiable factors.

FINDRISC (Lindström J, Tuomilehto J. Diabetes Care 2003;26:725-731, Table 2; `pmed.risk`) for
adults without diabetes. A score ≥ 12 (moderate, about 1 in 6 over 10 years, or higher) calls for
a blood test — HbA1c or fasting glucose (American Diabetes Association. Standards of Care in
Diabetes—2024, section 2, "Screening for prediabetes and type 2 diabetes", Diabetes Care
2024;47(Suppl 1):S20-S42). An HbA1c ≥ 6.5% without a diabetes diagnosis meets the ADA diagnostic
threshold (section 2, Table 2.1) and is flagged for confirmation.

Items not in the standard record mapping are read here, each with its source: high blood glucose
ever (HbA1c 4548-4 ≥ 5.7% or fasting glucose 1558-6 ≥ 100 mg/dL; False only when measured and
all normal), family history (FamilyMemberHistory with a diabetes condition; first degree for
parents, siblings and children), daily physical activity (LOINC 68516-4, ≥ 30 min/day), and the
two questionnaire items without a LOINC code as Observations in pmed's code system `QUESTION`
(`daily-fruit-vegetables`, `physical-activity-30min`, valueBoolean). Items
still unknown are not guessed: the score is then given as the range the unknown answers allow,
and screening is advised only if even the lowest possible score reaches 12.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pmed.care.context import CareContext
from pmed.care.model import Recommendation
from pmed.findings import Evidence, Finding, Severity, WhatIf
from pmed.record.codesets import condition_set
from pmed.risk import calculate, get_calculator, what_if

__all__ = ["diabetes_rules", "findrisc_inputs"]

ADA_2024 = Evidence(
    title="American Diabetes Association. 2. Diagnosis and Classification of Diabetes: "
    "Standards of Care in Diabetes—2024. Diabetes Care 2024;47(Suppl 1):S20-S42",
    url="https://doi.org/10.2337/dc24-S002",
)
SCREEN_AT = 12
_FIRST_DEGREE = {"FTH", "MTH", "PRN", "NFTH", "NMTH", "SIB", "BRO", "SIS", "NSIS", "NBRO",
                 "CHILD", "SON", "DAU", "CHLDNAT"}  # fmt: skip
#: Questionnaire items without a LOINC code, recorded as Observations with valueBoolean.
QUESTION = "https://pmed.dev/fhir/CodeSystem/questionnaire"
_QUESTIONS = {
    "daily-fruit-vegetables": "daily_fruit_vegetables",
    "physical-activity-30min": "physical_activity",
}
_MODIFIABLE = ("bmi", "waist_cm", "physical_activity", "daily_fruit_vegetables")
_PLAIN_CHANGE = {
    "bmi": "reached a healthy weight (BMI under 25)",
    "waist_cm": "had a smaller waist",
    "physical_activity": "were active for 30 minutes every day",
    "daily_fruit_vegetables": "ate vegetables or fruit every day",
}


def findrisc_inputs(ctx: CareContext) -> tuple[dict[str, Any], dict[str, str]]:
    values = dict(ctx.inputs.values)
    sources = dict(ctx.inputs.sources)
    record = ctx.record
    a1c = record.observations("4548-4", "%", before=ctx.at)
    glucose = record.observations("1558-6", "mg/dL", before=ctx.at)
    high = [m for m in a1c if m.value >= 5.7] + [m for m in glucose if m.value >= 100]
    if high:
        values["high_glucose_history"], sources["high_glucose_history"] = True, high[-1].source
    elif a1c or glucose:
        values["high_glucose_history"] = False
        sources["high_glucose_history"] = "all HbA1c/fasting glucose values normal"
    diabetes = condition_set("diabetes")
    for fmh in record.resources("FamilyMemberHistory"):
        if not any(diabetes.matches_concept(c.get("code")) for c in fmh.get("condition") or ()):
            continue
        codes = {c.get("code") for c in (fmh.get("relationship") or {}).get("coding") or ()}
        degree = "first_degree" if codes & _FIRST_DEGREE else "second_degree"
        if values.get("family_history_diabetes") != "first_degree":
            values["family_history_diabetes"] = degree
            sources["family_history_diabetes"] = f"FamilyMemberHistory/{fmh.get('id')}"
    activity = record.latest("68516-4", None, before=ctx.at)
    if activity is not None:
        values["physical_activity"] = activity.value >= 30
        sources["physical_activity"] = activity.source
    for obs in record.resources("Observation"):  # pmed questionnaire answers (valueBoolean)
        for coding in (obs.get("code") or {}).get("coding") or ():
            name = _QUESTIONS.get(coding.get("code")) if coding.get("system") == QUESTION else None
            if name and isinstance(obs.get("valueBoolean"), bool):
                values[name] = obs["valueBoolean"]
                sources[name] = f"Observation/{obs.get('id')}"
    return values, sources


def _bounds(values: Mapping[str, Any], missing: list[Any]) -> tuple[float, float]:
    """Lowest and highest FINDRISC the unknown answers allow. The score is a sum of item points
    (Lindström 2003, Table 2), so each unknown item is varied alone from a reference answer and
    the bounds add up the items' lowest and highest shares."""
    calc = get_calculator("findrisc")
    options = []
    for spec in missing:
        if spec.kind == "flag":
            options.append([(spec.name, True), (spec.name, False)])
        elif spec.kind == "choice":
            options.append([(spec.name, c) for c in spec.choices])
        else:
            options.append([(spec.name, spec.low), (spec.name, spec.high)])
    reference = dict(choice[0] for choice in options)

    def score(changes: Mapping[str, Any]) -> float:
        return float(calc.evaluate({**values, **reference, **changes}).value or 0)

    base = score({})
    low = high = base
    for choices in options:
        deltas = [score(dict([c])) - base for c in choices]
        low += min(deltas)
        high += max(deltas)
    return low, high


def _what_ifs(finding: Finding, values: Mapping[str, Any]) -> list[WhatIf]:
    sex = values.get("sex")
    changes: list[dict[str, Any]] = []
    if values.get("bmi", 0) >= 25:
        changes.append({"bmi": 24.9})
    limit = 79 if sex == "female" else 93
    if values.get("waist_cm", 0) > limit:
        changes.append({"waist_cm": float(limit)})
    for flag in ("physical_activity", "daily_fruit_vegetables"):
        if values.get(flag) is False:
            changes.append({flag: True})
    out = [what_if(finding, c) for c in changes]
    out = [w for w in out if w.absolute_change < 0]
    out.sort(key=lambda w: (w.absolute_change, sorted(w.changes)))
    return out[:3]


def diabetes_rules(ctx: CareContext) -> list[Recommendation]:
    out: list[Recommendation] = []
    age = ctx.value("age")
    if ctx.value("diabetes") or age is None or age < 18:
        return out
    a1c = ctx.record.latest("4548-4", "%", before=ctx.at)
    if a1c is not None and a1c.value >= 6.5:
        out.append(
            Recommendation(
                key="diabetes:undiagnosed",
                topic="diabetes",
                title=f"HbA1c {a1c.value:g}% with no diabetes diagnosis: confirm and diagnose",
                action="confirm",
                detail="HbA1c ≥ 6.5% meets the ADA diagnostic threshold; confirm with a repeat "
                "test unless the diagnosis is clinically clear.",
                severity=Severity.HIGH,
                rationale=[f"HbA1c {a1c.value:g}% ({a1c.source})", "no diabetes condition"],
                evidence=[ADA_2024],
                patient_text="A blood sugar test was high. Your clinician will repeat it to see "
                "if you have diabetes.",
                rules=["diabetes diagnosis threshold (ADA 2024)"],
            )
        )
    values, sources = findrisc_inputs(ctx)
    finding = calculate("findrisc", values, sources=sources, subject=ctx.subject)
    if finding.value is None:
        calc = get_calculator("findrisc")
        missing = [
            s for s in calc.inputs if s.name in {m["name"] for m in finding.details["missing"]}
        ]
        if any(s.name in ("age", "sex", "bmi") for s in missing):
            return out
        low, high = _bounds({k: v for k, v in values.items()}, missing)
        asked = ", ".join(s.description for s in missing)
        screen = low >= SCREEN_AT
        out.append(
            Recommendation(
                key="diabetes:findrisc",
                topic="diabetes",
                title=(
                    f"FINDRISC at least {low:g}: screen for type 2 diabetes (HbA1c)"
                    if screen
                    else f"FINDRISC {low:g}-{high:g} points: ask the missing questions"
                ),
                action="screen" if screen else "complete-questionnaire",
                detail=f"Unknown FINDRISC items: {asked}. The score lies between {low:g} and "
                f"{high:g} whatever the answers.",
                severity=Severity.MODERATE if screen else Severity.LOW,
                rationale=[
                    f"{k}: {values[k]} ({sources.get(k, 'record')})"
                    for k in sorted(set(values) & {s.name for s in calc.inputs})
                ],
                evidence=[*finding.evidence, ADA_2024],
                patient_text="A short questionnaire about your lifestyle and family would show "
                "your chance of getting type 2 diabetes.",
                rules=["diabetes screening (FINDRISC, ADA 2024)"],
                details={"low": low, "high": high, "missing": [s.name for s in missing]},
            )
        )
        return out
    score = float(finding.value)
    if finding.explanation is not None:
        finding.explanation.what_ifs.extend(_what_ifs(finding, finding.details["inputs"]))
    whatifs = finding.explanation.what_ifs if finding.explanation else []
    plain = [
        f"If you {' and '.join(_PLAIN_CHANGE[k] for k in w.changes)}, your score would drop "
        f"from {score:g} to {w.value:g} points."
        for w in whatifs
        if all(k in _PLAIN_CHANGE for k in w.changes)
    ]
    screen = score >= SCREEN_AT
    out.append(
        Recommendation(
            key="diabetes:findrisc",
            topic="diabetes",
            title=(
                f"FINDRISC {score:g} ({finding.details.get('band')}): screen with HbA1c"
                if screen
                else f"FINDRISC {score:g} ({finding.details.get('band')}): lifestyle advice"
            ),
            action="screen" if screen else "lifestyle",
            detail=finding.summary,
            severity=Severity.MODERATE if screen else Severity.INFO,
            rationale=[finding.summary],
            evidence=[*finding.evidence, ADA_2024],
            explanation=finding.explanation,
            patient_text=(
                "Your answers show a raised chance of getting type 2 diabetes. A simple blood "
                "test can check your sugar level. "
                if screen
                else "Your chance of getting type 2 diabetes is not high. "
            )
            + " ".join(plain),
            rules=["diabetes screening (FINDRISC, ADA 2024)"],
            details={"score": score, "band": finding.details.get("band")},
        )
    )
    return out
