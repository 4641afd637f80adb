"""`CareContext`: what every care rule reads, computed once per plan.

From the `PatientRecord`: calculator inputs with their sources (`pmed.risk.from_record`), the
scored risks (`score_record`), the pharmacogene results as a CPIC lookup, and the medications —
active ones from the record plus the draft orders of a CDS Hooks call. Drugs are named by
ingredient: an RxNorm ingredient code or the ingredient's name as a whole word in the coding
display or text (RxNorm clinical-drug → ingredient links are not shipped; see
`pmed.record.codesets`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from pmed.errors import InputError
from pmed.findings import Finding
from pmed.knowledge import load
from pmed.pgx import drugs as cpic_drugs
from pmed.record.codesets import RXNORM, medication_set, medication_set_names
from pmed.record.patient import PatientRecord
from pmed.record.view_types import GenomicResult
from pmed.risk import calculate, suggested_changes, what_if
from pmed.risk.engine import not_applicable
from pmed.risk.from_record import RecordInputs, record_inputs, score_record
from pmed.risk.from_record import moment as record_moment

__all__ = ["CareContext", "DraftOrder", "MedicationUse", "drug_names", "parse_draft_orders"]

#: CPIC keys are activity scores for these genes, phenotypes for the others.
_SCORE_KEYED = {"CYP2C9", "CYP2D6", "DPYD"}
_DIPLOTYPE_KEYED = {"CYP4F2", "HLA-A", "HLA-B", "VKORC1"}


@dataclass(frozen=True)
class MedicationUse:
    """A drug the patient takes or is being ordered: its ingredient names and where it is."""

    names: tuple[str, ...]  # lower-case ingredient names, e.g. ("simvastatin",)
    display: str
    reference: str  # "MedicationRequest/<id>" or "MedicationStatement/<id>"
    draft: bool = False
    daily_dose_mg: float | None = None
    resource: Mapping[str, Any] | None = None  # the draft order as sent


@dataclass(frozen=True)
class DraftOrder:
    reference: str
    resource: Mapping[str, Any]


@lru_cache(maxsize=1)
def _vocabulary() -> tuple[dict[str, str], re.Pattern[str]]:
    """RxNorm ingredient code → name, and one pattern matching any known ingredient name."""
    codes: dict[str, str] = {}
    for info in cpic_drugs():
        if info.rxnorm:
            codes[info.rxnorm] = info.name
    data = load("codesets/medications").data["sets"]
    for name in medication_set_names():
        for ing in data[name]["ingredients"]:
            if "," not in ing["name"]:
                codes.setdefault(ing["code"], ing["name"].lower())
    for entry in load("care/renal_dosing").data["drugs"]:
        names = entry.get("names") or [entry["drug"]]
        for code, nm in zip(entry["rxnorm"], names, strict=False):
            codes.setdefault(code, nm)
    for statin, code in load("care/statins").data["rxnorm"].items():
        codes.setdefault(code, statin)
    words = sorted(set(codes.values()), key=len, reverse=True)
    pattern = re.compile(
        r"(?<![a-z0-9])(" + "|".join(re.escape(w) for w in words) + r")(?![a-z0-9])", re.I
    )
    return codes, pattern


def drug_names(concept: Mapping[str, Any] | None) -> tuple[str, ...]:
    """Ingredient names (lower case, sorted) a CodeableConcept names, by code or by text."""
    if not concept:
        return ()
    codes, pattern = _vocabulary()
    found: set[str] = set()
    texts = [concept.get("text")]
    for coding in concept.get("coding") or ():
        if not isinstance(coding, Mapping):
            continue
        code = coding.get("code")
        if coding.get("system") in (RXNORM, None) and code in codes:
            found.add(codes[str(code)])
        texts.append(coding.get("display"))
    for text in texts:
        if isinstance(text, str):
            found.update(m.group(1).lower() for m in pattern.finditer(text))
    return tuple(sorted(found))


def _concept_display(concept: Mapping[str, Any]) -> str:
    if concept.get("text"):
        return str(concept["text"])
    for coding in concept.get("coding") or ():
        if isinstance(coding, Mapping) and coding.get("display"):
            return str(coding["display"])
    return "unnamed medication"


_MG = re.compile(r"(\d+(?:\.\d+)?)\s*MG\b", re.I)


def daily_dose_mg(order: Mapping[str, Any], display: str) -> float | None:
    """The ordered daily dose in mg: doseQuantity (mg) × frequency per day, or the strength in
    the drug's name (e.g. `simvastatin 40 MG Oral Tablet`) × tablets × frequency. None when the
    order does not say."""
    for dosage in order.get("dosageInstruction") or ():
        if not isinstance(dosage, Mapping):
            continue
        quantity = dosage.get("doseQuantity")
        for dr in dosage.get("doseAndRate") or ():
            if isinstance(dr, Mapping) and isinstance(dr.get("doseQuantity"), Mapping):
                quantity = dr["doseQuantity"]
        repeat = (dosage.get("timing") or {}).get("repeat") or {}
        per_day = 1.0
        if repeat.get("frequency") and repeat.get("periodUnit") == "d":
            per_day = float(repeat["frequency"]) / float(repeat.get("period") or 1)
        if isinstance(quantity, Mapping) and isinstance(quantity.get("value"), int | float):
            unit = str(quantity.get("code") or quantity.get("unit") or "").lower()
            if unit == "mg":
                return float(quantity["value"]) * per_day
            strength = _MG.search(display)
            if unit in ("tab", "{tbl}", "tablet", "1", "") and strength:
                return float(strength.group(1)) * float(quantity["value"]) * per_day
    return None


def parse_draft_orders(bundle: Any) -> list[MedicationUse]:
    """Draft MedicationRequests of a CDS Hooks `draftOrders` Bundle; other order types are
    ignored. `InputError` when the bundle is malformed or a MedicationRequest has no drug
    coding (no guessing what was ordered)."""
    if not isinstance(bundle, Mapping) or bundle.get("resourceType") != "Bundle":
        raise InputError("draftOrders must be a FHIR Bundle", field="context.draftOrders")
    out: list[MedicationUse] = []
    for i, entry in enumerate(bundle.get("entry") or ()):
        resource = entry.get("resource") if isinstance(entry, Mapping) else None
        where = f"context.draftOrders.entry[{i}].resource"
        if not isinstance(resource, Mapping) or not resource.get("resourceType"):
            raise InputError("entry without a FHIR resource", field=where)
        if resource["resourceType"] != "MedicationRequest":
            continue
        concept = resource.get("medicationCodeableConcept")
        if not isinstance(concept, Mapping) or not any(
            isinstance(c, Mapping) and c.get("code") for c in concept.get("coding") or ()
        ):
            raise InputError(
                "draft MedicationRequest has no medicationCodeableConcept coding; "
                "pmed does not guess the drug from free text",
                field=f"{where}.medicationCodeableConcept",
            )
        display = _concept_display(concept)
        rid = resource.get("id")
        out.append(
            MedicationUse(
                names=drug_names(concept),
                display=display,
                reference=f"MedicationRequest/{rid}" if rid else f"MedicationRequest/#draft-{i}",
                draft=True,
                daily_dose_mg=daily_dose_mg(resource, display),
                resource=resource,
            )
        )
    return out


@dataclass
class CareContext:
    record: PatientRecord
    at: datetime
    inputs: RecordInputs
    risks: list[Finding]
    lookup: dict[str, str]
    genotype_sources: dict[str, list[str]]
    active: list[MedicationUse]
    drafts: list[MedicationUse] = field(default_factory=list)

    genomics: list[GenomicResult] = field(default_factory=list)

    @classmethod
    def build(
        cls,
        record: PatientRecord,
        *,
        at: date | datetime | None = None,
        drafts: Sequence[MedicationUse] = (),
        scores: str = "all",
    ) -> CareContext:
        """`scores="all"` runs every calculator the record has inputs for (the report);
        `"care"` only those the rules read (PCE, CHA2DS2-VASc, HAS-BLED in AF, IWPC on warfarin):
        the CDS Hooks path, where latency matters."""
        moment = record_moment(at)
        inputs = record_inputs(record, moment)
        full = scores == "all"
        risks = score_record(record, at=moment) if full else _care_scores(record, inputs)
        genomics = record.genomic_results()
        lookup, sources = _lookup(genomics)
        active = [
            MedicationUse(
                names=drug_names({"coding": [c.__dict__ for c in m.codings], "text": m.text}),
                display=m.text or next((c.display for c in m.codings if c.display), None) or "",
                reference=m.reference,
            )
            for m in record.medications()
        ]
        return cls(record, moment, inputs, risks, lookup, sources, active, list(drafts), genomics)

    @property
    def subject(self) -> str:
        return self.record.reference

    def medications(self) -> list[MedicationUse]:
        """Drafts first (they are what the clinician is deciding on), then active ones."""
        return [*self.drafts, *self.active]

    def risk(self, calculator: str) -> Finding | None:
        for f in self.risks:
            if f.details.get("calculator") == calculator:
                return f
        return None

    def taking(self, codeset: str) -> list[MedicationUse]:
        wanted = medication_set(codeset)
        return [m for m in self.active if any(wanted.matches_text(n) for n in m.names)]

    def value(self, name: str) -> Any:
        return self.inputs.values.get(name)

    def source(self, name: str) -> str:
        return self.inputs.sources.get(name, "record")


def _care_scores(record: PatientRecord, inputs: RecordInputs) -> list[Finding]:
    """The calculators the care rules read, scored from the inputs already read (as
    `score_record` does: established ASCVD makes the primary-prevention PCE not applicable;
    cardiovascular results get the standard what-ifs)."""
    facts = inputs.facts
    names = ["pce"]
    if facts.get("atrial_fibrillation"):
        names += ["cha2ds2-vasc", "has-bled"]
    if facts.get("on_warfarin"):
        names += [n for n in ("has-bled", "warfarin-iwpc") if n not in names]
    out: list[Finding] = []
    for name in names:
        if name == "pce" and facts.get("established_ascvd"):
            shown = ", ".join(facts["established_ascvd"][:3])
            reason = f"established ASCVD ({shown}): primary-prevention equations do not apply"
            out.append(not_applicable(name, reason, subject=record.reference))
            continue
        try:
            finding = calculate(
                name, inputs.values, sources=inputs.sources, subject=record.reference
            )
        except InputError as exc:
            out.append(not_applicable(name, exc.reason, subject=record.reference))
            continue
        if finding.explanation is not None:
            for changes in suggested_changes(finding):
                finding.explanation.what_ifs.append(what_if(finding, changes))
        out.append(finding)
    return out


def _lookup(genomics: Iterable[GenomicResult]) -> tuple[dict[str, str], dict[str, list[str]]]:
    """The CPIC lookup from the record's genomic results: activity score for score-keyed
    genes, the diplotype for allele-carriage genes, else the phenotype."""
    lookup: dict[str, str] = {}
    sources: dict[str, list[str]] = {}
    for r in genomics:
        value: str | None
        if r.gene in _SCORE_KEYED:
            value = r.activity_score or r.phenotype
        elif r.gene in _DIPLOTYPE_KEYED:
            value = r.diplotype or r.phenotype
        else:
            value = r.phenotype
        if value:
            lookup[r.gene] = value
            sources[r.gene] = r.sources
    return lookup, sources


def all_names(uses: Iterable[MedicationUse]) -> set[str]:
    return {n for u in uses for n in u.names}
