"""Plain-language wording for the patient report: short sentences and everyday words, aiming at a
reading age of about 12 (Flesch-Kincaid grade 7 or below; checked in the tests)."""

from __future__ import annotations

from pmed.care.model import CarePlan
from pmed.findings import Finding

__all__ = ["plain_risk", "questions"]

_CV = {
    "pce": "a heart attack or stroke",
    "pce-revised": "a heart attack or stroke",
    "prevent": "heart disease or stroke",
    "framingham-cvd": "heart disease or stroke",
}


def plain_risk(finding: Finding) -> str:
    """One or two sentences saying what a score means for the patient."""
    calc = str(finding.details.get("calculator", ""))
    if finding.value is None:
        return "We could not work this out. Some facts about you are missing."
    value = float(finding.value)
    if calc in _CV:
        n = max(1, round(value))
        return (
            f"Out of 100 people like you, about {n} will have {_CV[calc]} in the next 10 "
            "years. The chart shows what raises your chance."
        )
    if calc == "cha2ds2-vasc":
        return (
            f"Your stroke score is {value:g}. A higher score means a higher chance of a stroke "
            "from your irregular heartbeat."
        )
    if calc == "has-bled":
        return f"Your bleeding score is {value:g}. A score of 3 or more means more care is needed."
    if calc == "findrisc":
        return (
            f"Your diabetes score is {value:g}. A score of 12 or more means a blood test "
            "for sugar is a good idea."
        )
    if calc == "egfr-ckd-epi-2021":
        return (
            f"Your kidney filter rate is {value:g}. Above 90 is normal. Below 60 means the "
            "kidneys work less well."
        )
    if calc == "warfarin-iwpc":
        return f"A good weekly dose of warfarin for you is about {value:.0f} mg."
    return "This number helps your clinician plan your care."


def questions(plan: CarePlan) -> list[str]:
    """Questions the patient can bring to their clinician, from the plan's topics."""
    topics = {r.topic for r in plan.recommendations}
    out = []
    if "drug-gene" in topics:
        out.append("Do my gene results mean I should change any of my medicines?")
    if "statin" in topics:
        out.append("Should I take a cholesterol medicine? Which one suits my genes?")
    if "antithrombotic" in topics:
        out.append("Do I need a blood thinner? How do we keep my bleeding risk low?")
    if "kidney" in topics:
        out.append("How are my kidneys? Do any of my doses need to change?")
    if "diabetes" in topics:
        out.append("Should I have a blood sugar test? What can I do to lower my risk?")
    if "duplicate" in topics:
        out.append("Am I taking two medicines that do the same job?")
    out.append("What is the one thing I could change that would help me most?")
    return out
