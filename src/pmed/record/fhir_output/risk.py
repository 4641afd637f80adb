"""Risk, score and dose findings as FHIR R4 resources.

- risk (PCE, PREVENT, Framingham, ...) → `RiskAssessment`: `prediction[]` with the outcome,
  `probabilityDecimal` (the risk as a fraction), `whenRange` (the horizon in years) and the
  band as `qualitativeRisk`; PREVENT gives one prediction per endpoint. `basis` cites the input
  resources, `method` the equation, `note` the summary and the largest contributions.
- score (FINDRISC, CHA2DS2-VASc, HAS-BLED, NEWS2, qSOFA) → `RiskAssessment` with the points in
  `prediction.rationale` and the band as `qualitativeRisk` (and the event rate when the paper
  gives one); a score coded in LOINC (eGFR, 98979-8) is a measurement → `Observation`.
- dose (IWPC warfarin) → a `MedicationRequest` with status draft and intent proposal: a dosage
  suggestion for the prescriber, never an order.

Ids are derived from subject and calculator, so scoring a patient again updates the same
resource (its history keeps the earlier versions).
"""

from __future__ import annotations

import hashlib
from typing import Any

from pmed.errors import InputError
from pmed.findings import Finding, FindingKind

__all__ = ["finding_to_fhir"]

UCUM = "http://unitsofmeasure.org"
LOINC = "http://loinc.org"
_OUTCOMES = {
    "pce": "First hard ASCVD event (CHD death, nonfatal MI, fatal or nonfatal stroke)",
    "pce-revised": "First hard ASCVD event (CHD death, nonfatal MI, fatal or nonfatal stroke)",
    "framingham-cvd": "Cardiovascular disease event (CHD, stroke, PAD, heart failure)",
    "cvd": "Total cardiovascular disease (ASCVD or heart failure)",
    "ascvd": "Atherosclerotic cardiovascular disease",
    "hf": "Heart failure",
    "chd": "Coronary heart disease",
    "stroke": "Stroke",
    "findrisc": "Type 2 diabetes",
    "cha2ds2-vasc": "Stroke or systemic thromboembolism",
    "has-bled": "Major bleeding",
    "news2": "Clinical deterioration (acute illness severity)",
    "qsofa": "Poor outcome from sepsis (in-hospital death or ICU stay >= 3 days)",
}


def _subject_ref(subject: str) -> str:
    return subject if "/" in subject else f"Patient/{subject}"


def _id(subject: str, finding: Finding, prefix: str) -> str:
    calculator = str(finding.details.get("calculator", finding.code.code))
    horizon = str(finding.details.get("horizon", ""))
    key = f"{_subject_ref(subject)}|{calculator}|{horizon}"
    return f"{prefix}-{hashlib.sha1(key.encode()).hexdigest()[:20]}"


def _code(finding: Finding) -> dict[str, Any]:
    coding = {"system": finding.code.system, "code": finding.code.code}
    if finding.code.display:
        coding["display"] = finding.code.display
    return {"coding": [coding], "text": finding.code.display or finding.code.code}


def _basis(finding: Finding) -> list[dict[str, str]]:
    return [{"reference": ref} for ref in finding.provenance.inputs]


def _notes(finding: Finding) -> list[dict[str, str]]:
    notes = [{"text": finding.summary}]
    if finding.explanation and finding.explanation.contributions:
        top = sorted(
            (c for c in finding.explanation.contributions if c.unit and "points" in c.unit),
            key=lambda c: abs(c.contribution),
            reverse=True,
        )[:5]
        if top:
            text = ", ".join(f"{c.factor} {c.contribution:+.2f}" for c in top)
            notes.append({"text": f"Largest contributions: {text}"})
    for what_if in finding.explanation.what_ifs if finding.explanation else ():
        label = "estimate" if what_if.estimate else "equation"
        changes = ", ".join(f"{k}={v}" for k, v in what_if.changes.items())
        notes.append(
            {
                "text": f"What if {changes}: {what_if.value:.2f} "
                f"({what_if.absolute_change:+.2f}; {label})"
            }
        )
    return notes


def _horizon(years: float) -> dict[str, Any]:
    return {"high": {"value": years, "unit": "years", "system": UCUM, "code": "a"}}


def _risk_assessment(finding: Finding, subject: str) -> dict[str, Any]:
    details = finding.details
    calculator = str(details.get("calculator", finding.code.code))
    band = details.get("band")
    predictions: list[dict[str, Any]] = []
    if finding.value is None:
        predictions.append(
            {
                "outcome": {"text": _OUTCOMES.get(calculator, calculator)},
                "rationale": finding.summary,
            }
        )
    elif finding.kind == FindingKind.RISK and "endpoints" in details:
        horizon = float(details.get("horizon", 10))
        headline = details.get("endpoint", "cvd")
        for endpoint, percent in details["endpoints"].items():
            prediction: dict[str, Any] = {
                "outcome": {"text": _OUTCOMES.get(endpoint, endpoint)},
                "probabilityDecimal": round(float(percent) / 100.0, 6),
                "whenRange": _horizon(horizon),
            }
            if endpoint == headline and band:
                prediction["qualitativeRisk"] = {"text": band}
            predictions.append(prediction)
    elif finding.kind == FindingKind.RISK:
        prediction = {
            "outcome": {"text": _OUTCOMES.get(calculator, calculator)},
            "probabilityDecimal": round(float(finding.value) / 100.0, 6),
            "whenRange": _horizon(10.0),
        }
        if band:
            prediction["qualitativeRisk"] = {"text": band}
        predictions.append(prediction)
    else:
        prediction = {
            "outcome": {"text": _OUTCOMES.get(calculator, calculator)},
            "rationale": f"{finding.code.display or calculator}: {finding.value:g} points",
        }
        if band:
            prediction["qualitativeRisk"] = {"text": band}
        rate = details.get("stroke_rate_percent_per_year")
        rate = rate if rate is not None else details.get("bleeds_per_100_patient_years")
        if rate is not None:
            prediction["probabilityDecimal"] = round(float(rate) / 100.0, 6)
            prediction["whenRange"] = _horizon(1.0)
        predictions.append(prediction)
    resource: dict[str, Any] = {
        "resourceType": "RiskAssessment",
        "id": _id(subject, finding, "risk"),
        "status": "final",
        "subject": {"reference": _subject_ref(subject)},
        "occurrenceDateTime": finding.provenance.generated.isoformat(),
        "code": _code(finding),
        "method": {
            "text": "; ".join(e.title for e in finding.evidence) or finding.provenance.engine
        },
        "prediction": predictions,
        "note": _notes(finding),
    }
    if finding.provenance.inputs:
        resource["basis"] = _basis(finding)
    return resource


def _observation(finding: Finding, subject: str) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "id": _id(subject, finding, "calc"),
        "status": "final",
        "category": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                        "code": "laboratory",
                    }
                ]
            }
        ],
        "code": _code(finding),
        "subject": {"reference": _subject_ref(subject)},
        "effectiveDateTime": finding.provenance.generated.isoformat(),
        "valueQuantity": {
            "value": finding.value,
            "unit": finding.unit,
            "system": UCUM,
            "code": "mL/min/{1.73_m2}" if finding.unit == "mL/min/1.73m2" else finding.unit,
        },
        "method": {"text": "; ".join(e.title for e in finding.evidence)},
        "note": _notes(finding),
    }
    if finding.details.get("band"):
        resource["interpretation"] = [{"text": f"KDIGO {finding.details['band']}"}]
    if finding.provenance.inputs:
        resource["derivedFrom"] = _basis(finding)
    return resource


def _medication_request(finding: Finding, subject: str) -> dict[str, Any]:
    if finding.value is None:
        raise InputError("a dose finding without a dose has no MedicationRequest form")
    per_day = float(finding.details.get("mg_per_day", float(finding.value) / 7.0))
    resource: dict[str, Any] = {
        "resourceType": "MedicationRequest",
        "id": _id(subject, finding, "dose"),
        "status": "draft",
        "intent": "proposal",
        "medicationCodeableConcept": _code(finding),
        "subject": {"reference": _subject_ref(subject)},
        "authoredOn": finding.provenance.generated.isoformat(),
        "dosageInstruction": [
            {
                "text": f"{per_day:.1f} mg once daily ({float(finding.value):.1f} mg/week): "
                "estimated maintenance dose, adjust to INR",
                "timing": {"repeat": {"frequency": 1, "period": 1, "periodUnit": "d"}},
                "doseAndRate": [
                    {
                        "doseQuantity": {
                            "value": round(per_day, 2),
                            "unit": "mg",
                            "system": UCUM,
                            "code": "mg",
                        }
                    }
                ],
            }
        ],
        "note": _notes(finding),
    }
    if finding.provenance.inputs:
        resource["supportingInformation"] = _basis(finding)
    return resource


def finding_to_fhir(finding: Finding, subject: str) -> dict[str, Any]:
    """The FHIR resource for a risk, score or dose finding about `subject`."""
    if finding.kind == FindingKind.DOSE:
        return _medication_request(finding, subject)
    if finding.kind == FindingKind.SCORE and finding.code.system == LOINC:
        if finding.value is None:
            raise InputError("a measurement-like score without a value has no FHIR form")
        return _observation(finding, subject)
    if finding.kind in (FindingKind.RISK, FindingKind.SCORE):
        return _risk_assessment(finding, subject)
    raise InputError(f"pmed.record.fhir_output.risk does not map {finding.kind.value!r} findings")
