"""The one mapping from a `PatientRecord` to calculator inputs, and scoring a patient's record.

`record_inputs(record, at=)` reads every calculator input the record can answer, each with the
resource it came from (`sources`: `Observation/123 (2024-05-01)`), at a point in time. Code-set
flags (diabetes, on antihypertensives, ...) are True when the record holds an active matching
condition or medication and False when it holds none — the record is the patient's history;
values that need a measurement (cholesterol, smoking status) are missing until measured, never
guessed. `score_record` runs every calculator the record has inputs for; `what_if_record`
recomputes them with changes.

Sources and codes: demographics from Patient (birthDate, gender, US Core race); labs by LOINC
through `PatientRecord.latest` (converted to the calculator's unit); conditions and medications
through the shipped code sets (`pmed.record.codesets`); CYP2C9 and VKORC1 from the record's
Genomics Reporting IG Observations (`PatientRecord.genomic_results`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from pmed.errors import InputError
from pmed.findings import Finding, WhatIf
from pmed.record.patient import PatientRecord
from pmed.risk.egfr import egfr_ckd_epi_2021
from pmed.risk.engine import calculate, not_applicable
from pmed.risk.registry import calculator_names, get_calculator
from pmed.risk.whatif import suggested_changes, what_if

__all__ = ["RecordInputs", "record_inputs", "score_record", "what_if_record"]

RACE_OMB = {"2106-3": "white", "2054-5": "black", "2028-9": "asian"}
ACUTE_WINDOW = timedelta(hours=24)
CV_EQUATIONS = ("pce", "pce-revised", "prevent", "framingham-cvd")
WARFARIN = "11289"
INR = "6301-6"
INR_WINDOW = timedelta(days=183)


@dataclass
class RecordInputs:
    """Calculator inputs read from a record: values, their sources, and notes on choices."""

    values: dict[str, Any] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)  # what decides relevance

    def put(self, name: str, value: Any, source: str | None) -> None:
        if value is None:
            return
        self.values[name] = value
        if source:
            self.sources[name] = source


def moment(at: date | datetime | None) -> datetime:
    """The instant a record is read at: now, an aware datetime, or the end of a given day."""
    if at is None:
        return datetime.now(UTC)
    if isinstance(at, datetime):
        return at if at.tzinfo else at.replace(tzinfo=UTC)
    return datetime(at.year, at.month, at.day, 23, 59, 59, tzinfo=UTC)


def record_inputs(record: PatientRecord, at: date | datetime | None = None) -> RecordInputs:
    """Every calculator input the record answers at `at` (default now), with sources."""
    out = RecordInputs()
    when = moment(at)
    before = at
    _demographics(record, when, out)
    _labs(record, before, out)
    _conditions_and_medications(record, before, out)
    _smoking(record, before, out)
    _egfr(record, before, out)
    _genotypes(record, out)
    _vitals(record, when, out)
    return out


def _demographics(record: PatientRecord, when: datetime, out: RecordInputs) -> None:
    born = record.birth_date
    source = f"{record.reference} (birthDate {born.isoformat()})" if born else None
    out.put("age", record.age(when), source)
    if record.sex in ("female", "male"):
        out.put("sex", record.sex, f"{record.reference} (gender)")
    race = record.race
    if race is not None:
        codes = race.codes
        value = next((RACE_OMB[c] for c in codes if c in RACE_OMB), "other" if codes else None)
        if value is not None and len({RACE_OMB.get(c, "other") for c in codes}) > 1:
            out.notes.append("more than one OMB race category recorded; the first is used")
        out.put("race", value, f"{record.reference} (US Core race)")


_LABS = (
    ("tc", "2093-3", "mg/dL"),
    ("hdl", "2085-9", "mg/dL"),
    ("ldl", "18262-6", "mg/dL"),
    ("hba1c", "4548-4", "%"),
    ("uacr", "9318-7", "mg/g"),
    ("scr_mg_dl", "2160-0", "mg/dL"),
    ("height_cm", "8302-2", "cm"),
    ("weight_kg", "29463-7", "kg"),
    ("waist_cm", "8280-0", None),
)


def _labs(record: PatientRecord, before: Any, out: RecordInputs) -> None:
    for name, code, unit in _LABS:
        m = record.latest(code, unit, before=before)
        if m is not None:
            out.put(name, round(m.value, 4), m.source)
    if "ldl" not in out.values:
        m = record.latest("13457-7", "mg/dL", before=before)  # calculated LDL-C
        if m is not None:
            out.put("ldl", round(m.value, 4), m.source)
    bp = record.blood_pressure(before=before)
    if bp is not None:
        out.put("sbp", round(bp.systolic.value, 1), bp.systolic.source)
        out.facts["sbp_date"] = bp.systolic.date
    bmi = record.body_mass_index(before=before)
    if bmi is not None:
        out.put("bmi", round(bmi.value, 2), _cite(bmi.reference, bmi.date))


def _cite(reference: str, when: datetime | None) -> str:
    return f"{reference} ({when.date().isoformat()})" if when else reference


def _flag(
    out: RecordInputs,
    name: str,
    entries: list[Any],
    what: str,
) -> None:
    if entries:
        out.put(name, True, entries[-1].source)
    else:
        out.put(name, False, f"no active {what} in the record")


def _conditions_and_medications(record: PatientRecord, before: Any, out: RecordInputs) -> None:
    cond = lambda name: record.conditions(name, before=before)  # noqa: E731
    meds = lambda name: record.medications(name, before=before)  # noqa: E731
    _flag(out, "diabetes", cond("diabetes"), "diabetes condition")
    _flag(out, "hypertension", cond("hypertension"), "hypertension condition")
    _flag(out, "chf", cond("heart_failure"), "heart failure condition")
    _flag(out, "stroke_tia", cond("stroke_tia"), "stroke/TIA condition")
    _flag(out, "stroke", cond("stroke_tia"), "stroke condition")
    vascular = cond("vascular_disease") + cond("mi_chd")
    _flag(out, "vascular_disease", vascular, "vascular disease condition")
    _flag(out, "abnormal_liver_function", cond("liver_disease"), "liver disease condition")
    _flag(out, "bleeding_history", cond("bleeding_history"), "bleeding condition")
    _flag(out, "bp_treated", meds("antihypertensives"), "antihypertensive medication")
    ever = record.medications("antihypertensives", active_only=False, before=before)
    _flag(out, "antihypertensive_medication", ever, "antihypertensive medication ever")
    _flag(out, "statin", meds("statins"), "statin")
    _flag(out, "enzyme_inducer", meds("enzyme_inducers"), "enzyme-inducer medication")
    _flag(out, "amiodarone", meds("amiodarone"), "amiodarone")
    _flag(
        out,
        "antiplatelet_or_nsaid",
        meds("antiplatelets") + meds("nsaids"),
        "antiplatelet or NSAID",
    )
    out.facts["atrial_fibrillation"] = bool(cond("atrial_fibrillation"))
    out.facts["established_ascvd"] = [e.source for e in vascular + cond("stroke_tia")]
    warfarin = [
        m
        for m in meds("anticoagulants")
        if any(c.code == WARFARIN for c in m.codings)
        or "warfarin" in (m.text or "").lower()
        or any("warfarin" in (c.display or "").lower() for c in m.codings)
    ]
    out.facts["on_warfarin"] = bool(warfarin)
    if not warfarin:
        out.put("labile_inr", False, "not on a vitamin K antagonist")
    else:
        _labile_inr(record, before, out)
    sbp = out.values.get("sbp")
    if sbp is not None:
        out.put("uncontrolled_hypertension", sbp > 160, out.sources.get("sbp"))


def _labile_inr(record: PatientRecord, before: Any, out: RecordInputs) -> None:
    """HAS-BLED's labile INR as time in range < 60%, by the fraction of INRs (LOINC 6301-6) in
    2.0–3.0 over the 6 months before the latest one; needs at least 3 INRs."""
    history = record.observations(INR, None, before=before)
    if not history or history[-1].date is None:
        return
    start = history[-1].date - INR_WINDOW
    recent = [m for m in history if m.date is not None and m.date >= start]
    if len(recent) < 3:
        return
    in_range = sum(1 for m in recent if 2.0 <= m.value <= 3.0) / len(recent)
    refs = ", ".join(m.reference for m in recent[-3:])
    out.put(
        "labile_inr", in_range < 0.6, f"{in_range:.0%} of {len(recent)} INRs in 2.0-3.0 ({refs}...)"
    )


def _smoking(record: PatientRecord, before: Any, out: RecordInputs) -> None:
    status = record.smoking(before=before)
    if status is not None and status.status != "unknown":
        out.put("smoker", status.current, status.source)


def _egfr(record: PatientRecord, before: Any, out: RecordInputs) -> None:
    """eGFR by CKD-EPI 2021 from the latest creatinine (age at that date); else a recorded
    98979-8 (CKD-EPI 2021) value. Older equations' values (MDRD, CKD-EPI 2009) are not used."""
    scr = record.latest("2160-0", "mg/dL", before=before)
    sex = out.values.get("sex")
    spec = get_calculator("egfr-ckd-epi-2021").spec("scr_mg_dl")
    if scr is not None and not (spec.low or 0) <= scr.value <= (spec.high or float("inf")):
        out.notes.append(
            f"creatinine {scr.value:g} mg/dL ({scr.source}) is outside {spec.range_text()}: "
            "eGFR not estimated from it"
        )
        scr = None
    if scr is not None and sex is not None and scr.date is not None:
        age = record.age(scr.date)
        if age is not None and age >= 18:
            value = float(egfr_ckd_epi_2021(scr.value, age, sex == "female"))
            out.put("egfr", round(value, 1), f"CKD-EPI 2021 from {scr.source}")
            creatinine = scr.value
            if creatinine >= 2.26:
                out.put("abnormal_renal_function", True, scr.source)
            else:
                out.put("abnormal_renal_function", False, scr.source)
            return
    for m in reversed(record.observations("98979-8", None, before=before)):
        if (m.original_code or m.code) == "98979-8":
            out.put("egfr", round(m.value, 1), m.source)
            return


def vkorc1_genotype(diplotype: str) -> str | None:
    """VKORC1 −1639G>A genotype from a PGx diplotype: PharmCAT names the alleles
    `rs9923231 reference (C)` / `rs9923231 variant (T)` (genomic strand), i.e. G / A."""
    alleles = []
    for part in diplotype.split("/"):
        text = part.strip().lower()
        if "variant" in text or text.endswith("(t)") or text == "a" or text == "t":
            alleles.append("A")
        elif "reference" in text or text.endswith("(c)") or text == "g" or text == "c":
            alleles.append("G")
        else:
            return None
    return "/".join(sorted(alleles)) if len(alleles) == 2 else None


def _genotypes(record: PatientRecord, out: RecordInputs) -> None:
    for result in record.genomic_results():
        sources = "; ".join(result.sources) or None
        if result.gene == "VKORC1" and result.diplotype:
            genotype = vkorc1_genotype(result.diplotype)
            if genotype:
                out.put("vkorc1", genotype, sources)
        elif result.gene == "CYP2C9" and result.diplotype:
            alleles = sorted(a.strip() for a in result.diplotype.split("/"))
            if all(a in ("*1", "*2", "*3") for a in alleles) and len(alleles) == 2:
                out.put("cyp2c9", "/".join(alleles), sources)
            else:
                out.notes.append(
                    f"CYP2C9 {result.diplotype} is not modelled by IWPC (*1, *2, *3 only); "
                    "the dose treats CYP2C9 as unknown"
                )


_VITALS = (("rr", "9279-1"), ("hr", "8867-4"), ("spo2", "59408-5"), ("temp", "8310-5"))


def _vitals(record: PatientRecord, when: datetime, out: RecordInputs) -> None:
    """Vital signs for NEWS2/qSOFA, only when measured within 24 hours before `when`."""
    recent = True
    for name, code in _VITALS:
        m = record.latest(code, "Cel" if name == "temp" else None, before=when)
        if m is None and name == "spo2":
            m = record.latest("2708-6", None, before=when)
        if m is None or m.date is None or when - m.date > ACUTE_WINDOW:
            recent = False
            continue
        out.put(name, m.value, m.source)
    sbp_date = out.facts.get("sbp_date")
    out.facts["acute_vitals"] = recent and sbp_date is not None and when - sbp_date <= ACUTE_WINDOW
    oxygen = record.latest("3151-8", None, before=when)
    if oxygen is not None and oxygen.date is not None and when - oxygen.date <= ACUTE_WINDOW:
        out.put("on_oxygen", oxygen.value > 0, oxygen.source)
    elif out.facts["acute_vitals"]:
        out.put("on_oxygen", False, "no inhaled-oxygen flow recorded in the last 24 h")
    for obs in reversed(record.resources("Observation")):
        concept = obs.get("code") or {}
        if not any(c.get("code") == "67775-7" for c in concept.get("coding") or ()):
            continue
        value = obs.get("valueCodeableConcept") or {}
        text = " ".join(
            [str(value.get("text") or "")]
            + [str(c.get("display") or "") for c in value.get("coding") or ()]
        ).lower()
        for level in ("unresponsive", "pain", "voice", "confusion", "alert"):
            if level in text:
                out.put("consciousness", level, f"Observation/{obs.get('id')}")
                out.put("altered_mentation", level != "alert", f"Observation/{obs.get('id')}")
                break
        break


# Which calculators belong in a patient's score (all of them when the caller names them).
def _adult(r: RecordInputs) -> bool:
    return bool(r.values.get("age", 18) >= 18)


_Relevance = Callable[[RecordInputs], bool]
_RELEVANT: dict[str, _Relevance] = {
    "pce": _adult,
    "pce-revised": _adult,
    "prevent": _adult,
    "framingham-cvd": _adult,
    "egfr-ckd-epi-2021": lambda r: "scr_mg_dl" in r.values,
    "cha2ds2-vasc": lambda r: bool(r.facts.get("atrial_fibrillation")),
    "has-bled": lambda r: bool(r.facts.get("atrial_fibrillation") or r.facts.get("on_warfarin")),
    "warfarin-iwpc": lambda r: bool(r.facts.get("on_warfarin")),
    "news2": lambda r: bool(r.facts.get("acute_vitals")),
    "qsofa": lambda r: bool(r.facts.get("acute_vitals")),
    "findrisc": lambda r: False,  # questionnaire items: scored when named explicitly
}


def score_record(
    record: PatientRecord,
    *,
    at: date | datetime | None = None,
    names: Iterable[str] | None = None,
    what_ifs: bool = True,
    **options: Any,
) -> list[Finding]:
    """Every calculator whose inputs the record has (missing-data findings for relevant ones
    that lack some), each explained, with the standard what-ifs for cardiovascular risks."""
    inputs = record_inputs(record, at)
    findings: list[Finding] = []
    asked = names is not None
    for name in names or calculator_names():
        calc = get_calculator(name)
        if not asked and not _RELEVANT.get(name, lambda r: True)(inputs):
            continue
        if name in CV_EQUATIONS and inputs.facts.get("established_ascvd"):
            shown = ", ".join(inputs.facts["established_ascvd"][:3])
            reason = f"established ASCVD ({shown}): primary-prevention equations do not apply"
            findings.append(not_applicable(name, reason, subject=record.reference))
            continue
        opts = {k: v for k, v in options.items() if k in calc.option_values}
        try:
            finding = calculate(
                name, inputs.values, sources=inputs.sources, subject=record.reference, **opts
            )
        except InputError as exc:  # a recorded value outside the equation's valid range
            findings.append(not_applicable(name, exc.reason, subject=record.reference))
            continue
        if what_ifs and finding.explanation is not None:
            for changes in suggested_changes(finding):
                finding.explanation.what_ifs.append(what_if(finding, changes))
        if inputs.notes:
            finding.details["record_notes"] = list(inputs.notes)
        findings.append(finding)
    return findings


def what_if_record(
    record: PatientRecord,
    changes: Mapping[str, Any],
    *,
    at: date | datetime | None = None,
    names: Iterable[str] | None = None,
    **options: Any,
) -> list[tuple[Finding, WhatIf]]:
    """Each calculated result of the record with `changes` applied (calculators to which none of
    the changes apply are left out)."""
    out = []
    for finding in score_record(record, at=at, names=names, what_ifs=False, **options):
        if finding.value is None:
            continue
        calc = get_calculator(finding.details["calculator"])
        inputs = {spec.name for spec in calc.inputs}
        treatments = {"statin", "ldl_lowering", "sbp_lowering"} if calc.cardiovascular else set()
        usable = {k: v for k, v in changes.items() if k in inputs or k in treatments}
        if not usable:
            continue
        try:
            out.append((finding, what_if(finding, usable)))
        except InputError as exc:
            if names is not None:
                raise
            finding.details["what_if_error"] = str(exc)
    return out
