"""Statins: who should take one and at what intensity, then which statin and dose the genotype
allows.

Eligibility and intensity — Grundy SM et al. 2018 AHA/ACC Guideline on the Management of Blood
Cholesterol (Circulation 2019;139:e1082-e1143):
* clinical ASCVD, age ≤ 75 → high intensity (section 4.1, Class I); > 75 → moderate (IIa);
* LDL-C ≥ 190 mg/dL, age 20–75 → high intensity (4.2, Class I);
* diabetes, age 40–75 → moderate intensity (4.3, Class I); high when 10-year ASCVD risk ≥ 20%
  (IIa);
* primary prevention, age 40–75, LDL-C 70–189 mg/dL, by 10-year PCE risk (4.4): ≥ 20% high
  intensity (I); 7.5–< 20% moderate intensity (I); 5–< 7.5% consider moderate intensity when
  risk enhancers are present (IIb); < 5% lifestyle (I).
Doses per intensity: Table 3 (`care/statins`).

Statin choice and dose caps — Cooper-DeHoff RM et al. CPIC Guideline for SLCO1B1, ABCG2 and
CYP2C9 genotypes and statin-associated musculoskeletal symptoms (Clin Pharmacol Ther
2022;111:1007-1021), Figure 1, through `pmed.pgx.recommend`: statins CPIC says to avoid are
skipped; a CPIC dose cap below the intensity's dose rules a statin out.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from pmed.care.context import CareContext
from pmed.care.model import Alternative, Recommendation
from pmed.findings import Evidence, Severity
from pmed.knowledge import load
from pmed.pgx import drugs, recommend

__all__ = ["STATIN_NAMES", "statin_intensity", "statin_options", "statin_rules"]

_K = load("care/statins").data
STATIN_NAMES = frozenset(_K["rxnorm"])
GUIDELINE = Evidence(title=_K["citation"], url=_K["url"])
CPIC_STATINS = Evidence(
    title="Cooper-DeHoff RM et al. CPIC Guideline for SLCO1B1, ABCG2, and CYP2C9 genotypes and "
    "Statin-Associated Musculoskeletal Symptoms. Clin Pharmacol Ther 2022;111:1007-1021",
    url="https://cpicpgx.org/guidelines/cpic-guideline-for-statins/",
)
_RULED_OUT = frozenset({"avoid", "use-alternative", "consider-alternative"})
_STATIN_GENES = ("SLCO1B1", "ABCG2", "CYP2C9")


def statin_intensity(ctx: CareContext) -> tuple[str | None, str, str, list[str]]:
    """(intensity or None, class of recommendation, reason, rationale lines)."""
    age = ctx.value("age")
    ldl = ctx.value("ldl")
    ascvd = ctx.inputs.facts.get("established_ascvd") or []
    why: list[str] = []
    if age is not None:
        why.append(f"age {age} ({ctx.source('age')})")
    if ldl is not None:
        why.append(f"LDL-C {ldl:g} mg/dL ({ctx.source('ldl')})")
    if ascvd:
        why.append("clinical ASCVD: " + ", ".join(ascvd[:3]))
        if age is not None and age > 75:
            return "moderate", "IIa", "clinical ASCVD, age > 75 (section 4.1)", why
        return "high", "I", "clinical ASCVD (section 4.1)", why
    if age is None:
        return None, "", "age unknown", why
    if ldl is not None and ldl >= 190 and 20 <= age <= 75:
        return "high", "I", "LDL-C ≥ 190 mg/dL (section 4.2)", why
    pce = ctx.risk("pce")
    risk = float(pce.value) if pce is not None and pce.value is not None else None
    if risk is not None:
        why.append(f"10-year ASCVD risk {risk:.1f}% (PCE)")
    if ctx.value("diabetes") and 40 <= age <= 75:
        why.append(f"diabetes ({ctx.source('diabetes')})")
        if risk is not None and risk >= 20:
            return "high", "IIa", "diabetes with 10-year risk ≥ 20% (section 4.3)", why
        return "moderate", "I", "diabetes, age 40-75 (section 4.3)", why
    if not 40 <= age <= 75 or ldl is None or risk is None or not 70 <= ldl < 190:
        return None, "", "outside the primary-prevention statin groups or data missing", why
    if risk >= 20:
        return "high", "I", "10-year ASCVD risk ≥ 20% (section 4.4)", why
    if risk >= 7.5:
        return "moderate", "I", "10-year ASCVD risk 7.5% to < 20% (section 4.4)", why
    if risk >= 5:
        return "moderate", "IIb", "borderline 10-year risk 5% to < 7.5%: if risk enhancers", why
    return None, "I", "10-year ASCVD risk < 5%: lifestyle (section 4.4)", why


def statin_options(
    lookup: Mapping[str, str], *, intensity: str = "moderate", exclude: str | None = None
) -> list[Alternative]:
    """Statins at `intensity` the genotype allows, in the guideline's preference order, each
    with its dose (capped by CPIC where the genotype limits it). Without results for the
    statin genes every statin of the intensity is offered."""
    relevant = tuple(sorted((g, v) for g, v in lookup.items() if g in _STATIN_GENES))
    return [a.model_copy() for a in _statin_options(relevant, intensity, exclude)]


@lru_cache(maxsize=1024)
def _statin_options(
    lookup_items: tuple[tuple[str, str], ...], intensity: str, exclude: str | None
) -> tuple[Alternative, ...]:
    lookup = dict(lookup_items)
    genes_of = {d.name: d.genes for d in drugs()}
    out: list[Alternative] = []
    for name in _K["preference"]:
        dose_range = _K["intensity"][intensity].get(name)
        if dose_range is None or name == exclude:
            continue
        low, high = float(dose_range[0]), float(dose_range[1])
        note = f"{intensity} intensity {low:g}-{high:g} mg/day (2018 AHA/ACC Table 3)"
        cap: float | None = None
        if set(genes_of.get(name, ())) & set(lookup):
            recs = recommend(lookup, drugs=[name])
            if any(r.action in _RULED_OUT for r in recs):
                continue
            caps = [float(r.facts["max_dose_mg"]) for r in recs if r.facts.get("max_dose_mg")]
            if caps:
                cap = min(caps)
                if cap < low:
                    continue
                high = min(high, cap)
                note += f"; CPIC 2022 caps it at {cap:g} mg for this genotype"
        out.append(
            Alternative(
                drug=name,
                rxnorm=_K["rxnorm"][name],
                dose=f"{low:g} mg daily" if low == high else f"{low:g}-{high:g} mg daily",
                max_dose_mg=cap,
                note=note,
                recommended=not out,
            )
        )
    return tuple(out)


def statin_rules(ctx: CareContext) -> list[Recommendation]:
    intensity, klass, reason, why = statin_intensity(ctx)
    on_statin = ctx.taking("statins")
    pce = ctx.risk("pce")
    explanation = pce.explanation if pce is not None and pce.value is not None else None
    if intensity is None:
        if "data missing" in reason and ctx.value("ldl") is None and not on_statin:
            return [
                Recommendation(
                    key="statin:eligibility",
                    topic="statin",
                    title="Statin eligibility unknown: no LDL cholesterol in the record",
                    action="measure",
                    detail="A lipid panel is needed to apply the 2018 AHA/ACC cholesterol "
                    "guideline (section 4.4).",
                    severity=Severity.LOW,
                    rationale=why,
                    evidence=[GUIDELINE],
                    patient_text="A blood test for cholesterol would show whether a "
                    "cholesterol medicine could help you.",
                    rules=["statin (2018 AHA/ACC)"],
                )
            ]
        return []
    genotyped = [g for g in _STATIN_GENES if g in ctx.lookup]
    options = statin_options(ctx.lookup, intensity=intensity)
    detail = f"{intensity.capitalize()}-intensity statin advised: {reason}, Class {klass}."
    if genotyped:
        detail += " Statin choice follows CPIC 2022 for " + ", ".join(
            f"{g} {ctx.lookup[g]}" for g in genotyped
        )
        why.extend(f"{g} {ctx.lookup[g]}" for g in genotyped)
    else:
        detail += " No SLCO1B1/ABCG2/CYP2C9 result: statin genotype not used."
    if on_statin:
        names = ", ".join(sorted({n for m in on_statin for n in m.names}))
        title = f"On a statin ({names}); guideline intensity is {intensity}"
        action, severity = "continue", Severity.INFO
        text = "Keep taking your cholesterol medicine. It lowers your chance of a heart attack."
    else:
        first = options[0] if options else None
        title = f"Start a {intensity}-intensity statin" + (
            f", e.g. {first.drug} {first.dose}" if first else ""
        )
        action = "start"
        severity = Severity.MODERATE if klass == "I" else Severity.LOW
        text = (
            "A cholesterol medicine called a statin could lower your chance of a heart attack "
            "or stroke. Talk with your clinician about starting one."
        )
    details: dict[str, Any] = {"intensity": intensity, "class": klass, "reason": reason}
    return [
        Recommendation(
            key="statin:therapy",
            topic="statin",
            title=title,
            action=action,
            detail=detail,
            strength=f"Class {klass}",
            severity=severity,
            rationale=why,
            evidence=[GUIDELINE, CPIC_STATINS] if genotyped else [GUIDELINE],
            explanation=explanation,
            alternatives=options,
            patient_text=text,
            rules=["statin (2018 AHA/ACC + CPIC 2022)"],
            details=details,
        )
    ]
