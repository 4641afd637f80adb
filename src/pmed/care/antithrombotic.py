"""Antithrombotics: anticoagulation in atrial fibrillation, bleeding risk, the warfarin start dose,
and clopidogrel without a CYP2C19 result.

* Stroke prevention — Joglar JA et al. 2023 ACC/AHA/ACCP/HRS Guideline for the Diagnosis and
  Management of Atrial Fibrillation (Circulation 2024;149:e1-e156), section 6.1: oral
  anticoagulation is recommended at CHA2DS2-VASc ≥ 2 in men / ≥ 3 in women (Class 1) and
  reasonable at 1 / 2 (Class 2a); none at 0 / 1. Score: Lip 2010 (`pmed.risk`).
* Bleeding risk — HAS-BLED ≥ 3 is high risk (Pisters R et al. Chest 2010;138:1093-1100): review
  the modifiable factors (uncontrolled blood pressure, labile INR, antiplatelet/NSAID use,
  alcohol) and follow up more often; a high score alone is not a reason to withhold
  anticoagulation (Hindricks G et al. 2020 ESC AF guideline, Eur Heart J 2021;42:373-498).
* Warfarin start dose — IWPC pharmacogenetic algorithm (N Engl J Med 2009;360:753-764) with
  CYP2C9/VKORC1 from the record, as CPIC recommends (Johnson JA et al. Clin Pharmacol Ther
  2017;102:397-404); a draft dose more than 20% away from it is flagged.
* Clopidogrel — with a CYP2C19 result the drug–gene rule applies CPIC 2022; without one, CPIC
  2022 (Lee CR et al. Clin Pharmacol Ther 2022;112:959-967) supports genotyping before ACS/PCI.
"""

from __future__ import annotations

from pmed.care.context import CareContext, all_names
from pmed.care.model import Alternative, Recommendation
from pmed.errors import InputError
from pmed.findings import Code, Evidence, Finding, Severity
from pmed.risk import calculate

__all__ = ["antithrombotic_rules"]

RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
AF_2023 = Evidence(
    title="Joglar JA et al. 2023 ACC/AHA/ACCP/HRS Guideline for the Diagnosis and Management of "
    "Atrial Fibrillation. Circulation 2024;149:e1-e156, section 6.1",
    url="https://doi.org/10.1161/CIR.0000000000001193",
)
ESC_2020 = Evidence(
    title="Hindricks G et al. 2020 ESC Guidelines for atrial fibrillation. Eur Heart J "
    "2021;42:373-498 (bleeding-risk assessment, HAS-BLED)",
    url="https://doi.org/10.1093/eurheartj/ehaa612",
)
CPIC_WARFARIN = Evidence(
    title="Johnson JA et al. CPIC Guideline for Pharmacogenetics-Guided Warfarin Dosing: 2017 "
    "Update. Clin Pharmacol Ther 2017;102:397-404",
    url="https://cpicpgx.org/guidelines/guideline-for-warfarin-and-cyp2c9-and-vkorc1/",
)
CPIC_CLOPIDOGREL = Evidence(
    title="Lee CR et al. CPIC Guideline for CYP2C19 Genotype and Clopidogrel Therapy: 2022 "
    "Update. Clin Pharmacol Ther 2022;112:959-967",
    url="https://cpicpgx.org/guidelines/guideline-for-clopidogrel-and-cyp2c19/",
)
_MODIFIABLE_BLEEDING = {
    "uncontrolled_hypertension": "uncontrolled blood pressure (SBP > 160)",
    "labile_inr": "labile INR",
    "antiplatelet_or_nsaid": "antiplatelet or NSAID use",
    "alcohol": "alcohol ≥ 8 drinks a week",
}


def _stroke(ctx: CareContext) -> list[Recommendation]:
    score = ctx.risk("cha2ds2-vasc")
    if score is None or score.value is None:
        return []
    points = int(score.value)
    female = ctx.value("sex") == "female"
    advised, reasonable = (3, 2) if female else (2, 1)
    anticoagulated = ctx.taking("anticoagulants")
    why = [f"atrial fibrillation; CHA2DS2-VASc {points} ({'female' if female else 'male'})"]
    terms = score.explanation.contributions if score.explanation else []
    why += [f"{c.factor}: {c.value}" for c in terms if c.contribution]
    if points >= advised:
        klass, severity = "1", Severity.HIGH
    elif points >= reasonable:
        klass, severity = "2a", Severity.MODERATE
    else:
        return []
    if anticoagulated:
        names = ", ".join(sorted(all_names(anticoagulated))) or "anticoagulant"
        return [
            Recommendation(
                key="af:anticoagulation",
                topic="antithrombotic",
                title=f"AF with CHA2DS2-VASc {points}: anticoagulated ({names}); continue",
                action="continue",
                detail=f"Oral anticoagulation is indicated (Class {klass}) and in place.",
                strength=f"Class {klass}",
                severity=Severity.INFO,
                rationale=why,
                evidence=[AF_2023, *score.evidence],
                explanation=score.explanation,
                patient_text="Your blood thinner lowers your chance of a stroke from your "
                "irregular heartbeat. Keep taking it.",
                rules=["anticoagulation in AF (2023 ACC/AHA/ACCP/HRS)"],
            )
        ]
    verb = "is recommended" if klass == "1" else "is reasonable"
    return [
        Recommendation(
            key="af:anticoagulation",
            topic="antithrombotic",
            title=f"AF with CHA2DS2-VASc {points}: oral anticoagulation {verb}",
            action="start",
            detail=f"No anticoagulant in the record. Oral anticoagulation {verb} (Class {klass}); "
            "a DOAC is preferred to warfarin where eligible.",
            strength=f"Class {klass}",
            severity=severity,
            rationale=why,
            evidence=[AF_2023, *score.evidence],
            explanation=score.explanation,
            patient_text="Your irregular heartbeat raises your chance of a stroke. A blood "
            "thinner can lower it. Ask your clinician about one.",
            rules=["anticoagulation in AF (2023 ACC/AHA/ACCP/HRS)"],
        )
    ]


def _bleeding(ctx: CareContext) -> list[Recommendation]:
    score = ctx.risk("has-bled")
    if score is None or score.value is None or score.value < 3:
        return []
    modifiable = [
        _MODIFIABLE_BLEEDING[c.factor]
        for c in (score.explanation.contributions if score.explanation else [])
        if c.factor in _MODIFIABLE_BLEEDING and c.contribution > 0
    ]
    fix = "; address: " + ", ".join(modifiable) if modifiable else ""
    return [
        Recommendation(
            key="af:bleeding-risk",
            topic="antithrombotic",
            title=f"HAS-BLED {score.value:g}: high bleeding risk{fix}"[:139],
            action="review",
            detail="High bleeding risk: correct the modifiable factors and review more often. "
            "A high HAS-BLED alone is not a reason to withhold anticoagulation.",
            severity=Severity.MODERATE,
            rationale=[score.summary],
            evidence=[ESC_2020, *score.evidence],
            explanation=score.explanation,
            patient_text="You have a higher chance of bleeding. Your clinician will check "
            "things that can lower it, like blood pressure and other medicines.",
            rules=["bleeding risk (HAS-BLED)"],
            details={"modifiable": modifiable},
        )
    ]


def _warfarin_dose(ctx: CareContext) -> list[Recommendation]:
    uses = [m for m in ctx.medications() if "warfarin" in m.names]
    if not uses:
        return []
    use = uses[0]
    finding: Finding | None = ctx.risk("warfarin-iwpc")
    if finding is None:
        try:
            finding = calculate(
                "warfarin-iwpc", ctx.inputs.values, sources=ctx.inputs.sources, subject=ctx.subject
            )
        except InputError as exc:
            return [_dose_unknown(use.reference if use.draft else None, exc.reason)]
    if finding.value is None:
        missing = ", ".join(m["name"] for m in finding.details.get("missing", []))
        return [_dose_unknown(use.reference if use.draft else None, f"missing {missing}")]
    daily = float(finding.value) / 7.0
    algorithm = finding.details.get("algorithm", "")
    severity, title = Severity.INFO, f"Warfarin: IWPC {algorithm} dose ≈ {daily:.1f} mg/day"
    ordered = use.daily_dose_mg
    if use.draft and ordered is not None and abs(ordered - daily) > 0.2 * daily:
        severity = Severity.MODERATE
        title = f"Warfarin {ordered:g} mg/day ordered; IWPC {algorithm} dose ≈ {daily:.1f} mg/day"
    why = [finding.summary] + [
        f"{c.factor}: {c.value} ({c.source})" for c in finding.explanation.contributions
        if c.source
    ] if finding.explanation else [finding.summary]  # fmt: skip
    return [
        Recommendation(
            key="drug:warfarin",
            topic="antithrombotic",
            title=title,
            action="calculate-dose",
            detail=f"{finding.summary}. Adjust by INR.",
            strength="strong" if algorithm == "pharmacogenetic" else None,
            severity=severity,
            rationale=why,
            evidence=[*finding.evidence, CPIC_WARFARIN],
            explanation=finding.explanation,
            drug=Code(system=RXNORM, code="11289", display="warfarin"),
            alternatives=[
                Alternative(
                    drug="warfarin",
                    rxnorm="11289",
                    dose=f"{daily:.1f} mg daily",
                    note=f"IWPC {algorithm} algorithm; adjust by INR",
                    recommended=True,
                )
            ]
            if use.draft
            else [],
            order_ref=use.reference if use.draft else None,
            patient_text="Your genes and body size help set your warfarin dose. Blood tests "
            "(INR) will fine-tune it.",
            rules=["warfarin dose (IWPC 2009, CPIC 2017)"],
            details={"mg_per_day": round(daily, 2), "algorithm": algorithm},
        )
    ]


def _dose_unknown(order_ref: str | None, reason: str) -> Recommendation:
    return Recommendation(
        key="drug:warfarin",
        topic="antithrombotic",
        title="Warfarin: IWPC dose not calculated (record incomplete)",
        action="measure",
        detail=f"IWPC dose not calculated: {reason}.",
        severity=Severity.LOW,
        evidence=[CPIC_WARFARIN],
        order_ref=order_ref,
        patient_text="Your clinician needs a few more details to work out your warfarin dose.",
        rules=["warfarin dose (IWPC 2009, CPIC 2017)"],
    )


def _clopidogrel_untested(ctx: CareContext) -> list[Recommendation]:
    uses = [m for m in ctx.medications() if "clopidogrel" in m.names]
    if not uses or "CYP2C19" in ctx.lookup:
        return []
    use = uses[0]
    return [
        Recommendation(
            key="drug:clopidogrel",
            topic="antithrombotic",
            title="Clopidogrel without a CYP2C19 result: consider genotyping",
            action="further-testing",
            detail="CYP2C19 poor and intermediate metabolizers get less benefit from "
            "clopidogrel; CPIC 2022 recommends an alternative for them after ACS/PCI.",
            severity=Severity.LOW,
            rationale=[f"{use.display} ({use.reference})", "no CYP2C19 result in the record"],
            evidence=[CPIC_CLOPIDOGREL],
            order_ref=use.reference if use.draft else None,
            drug=Code(system=RXNORM, code="32968", display="clopidogrel"),
            patient_text="A gene test could show whether clopidogrel works well for you.",
            rules=["clopidogrel vs CYP2C19 (CPIC 2022)"],
        )
    ]


def antithrombotic_rules(ctx: CareContext) -> list[Recommendation]:
    return [
        *_stroke(ctx),
        *_bleeding(ctx),
        *_warfarin_dose(ctx),
        *_clopidogrel_untested(ctx),
    ]
