"""Reading pharmacogene results back from HL7 Genomics Reporting IG Observations.

Genotype: code LOINC 84413-4 "Genotype display name" (value: diplotype text such as
`CYP2C19 *1/*2`, or a PharmVar/pmed coding), gene from component 48018-6 "Gene studied [ID]"
(HGNC coding). Phenotype: code or component LOINC 53040-2 "Genetic variation's effect on drug
metabolism" (value e.g. `Poor metabolizer`), or the IG's `predicted-phenotype` component.
Activity score: a component whose code or text says activity score. Observations profiled by the
IG (meta.profile containing `genomics-reporting`) are read the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from pmed.record._fhirvalues import codings, effective
from pmed.record.view_types import GenomicResult

__all__ = ["genomic_results"]

GENOTYPE_CODES = frozenset({"84413-4"})
PHENOTYPE_CODES = frozenset({"53040-2", "79716-7", "predicted-phenotype"})
GENE_STUDIED = frozenset({"48018-6", "gene-studied"})


def _concept_text(concept: Any) -> str | None:
    if not isinstance(concept, Mapping):
        return None
    for c in codings(concept):
        if c.display:
            return c.display
    if concept.get("text"):
        return str(concept["text"])
    for c in codings(concept):
        if c.code:
            return c.code
    return None


def _value_text(element: Mapping[str, Any]) -> str | None:
    if "valueCodeableConcept" in element:
        concept = element["valueCodeableConcept"]
        if isinstance(concept, Mapping) and concept.get("text"):
            return str(concept["text"])
        return _concept_text(concept)
    for key in ("valueString", "valueInteger", "valueDecimal"):
        if key in element:
            return str(element[key])
    if isinstance(element.get("valueQuantity"), Mapping):
        value = element["valueQuantity"].get("value")
        return None if value is None else str(value)
    return None


def _codes(concept: Any) -> set[str]:
    out = {c.code for c in codings(concept) if c.code}
    if isinstance(concept, Mapping) and concept.get("text"):
        out.add(str(concept["text"]).lower())
    return out


def _is_activity(concept: Any) -> bool:
    found = codings(concept)
    parts = [c.display or "" for c in found] + [c.code or "" for c in found]
    if isinstance(concept, Mapping):
        parts.append(str(concept.get("text") or ""))
    words = " ".join(parts).lower()
    return "activity score" in words or "activity-score" in words


def _gene(obs: Mapping[str, Any]) -> str | None:
    for comp in obs.get("component") or ():
        if _codes(comp.get("code")) & GENE_STUDIED:
            concept = comp.get("valueCodeableConcept")
            for c in codings(concept):
                if c.display:
                    return c.display
            if isinstance(concept, Mapping) and concept.get("text"):
                return str(concept["text"])
            for c in codings(concept):
                if c.code and not c.code.upper().startswith("HGNC:"):
                    return c.code
    return None


def _strip_gene(text: str | None, gene: str | None) -> str | None:
    if text is None or gene is None:
        return text
    stripped = text.strip()
    if stripped.upper().startswith(gene.upper()):
        stripped = stripped[len(gene) :].strip()
    return stripped or None


def genomic_results(observations: Iterable[Mapping[str, Any]]) -> list[GenomicResult]:
    """One `GenomicResult` per gene, fields taken from the latest Observation that has them."""
    found: dict[str, dict[str, Any]] = {}
    rows = []
    for obs in observations:
        if obs.get("status") in ("entered-in-error", "cancelled"):
            continue
        profiles = " ".join(obs.get("meta", {}).get("profile") or ())
        codes = _codes(obs.get("code"))
        genomic = (
            bool(codes & (GENOTYPE_CODES | PHENOTYPE_CODES)) or "genomics-reporting" in profiles
        )
        if genomic:
            rows.append(obs)
    rows.sort(key=lambda o: effective(o) or datetime.min.replace(tzinfo=UTC), reverse=True)
    for obs in rows:
        gene = _gene(obs)
        codes = _codes(obs.get("code"))
        value = _value_text(obs)
        if gene is None and value and codes & GENOTYPE_CODES:
            gene = value.split()[0].split("*")[0] or None
        if gene is None:
            continue
        slot = found.setdefault(
            gene,
            {
                "date": effective(obs),
                "references": [],
                "diplotype": None,
                "phenotype": None,
                "activity_score": None,
            },
        )
        ref = f"Observation/{obs.get('id') or '?'}"
        used = False
        if codes & GENOTYPE_CODES and slot["diplotype"] is None:
            slot["diplotype"] = _strip_gene(value, gene)
            used = True
        if codes & PHENOTYPE_CODES and slot["phenotype"] is None:
            slot["phenotype"] = value
            used = True
        for comp in obs.get("component") or ():
            comp_codes = _codes(comp.get("code"))
            if comp_codes & PHENOTYPE_CODES and slot["phenotype"] is None:
                slot["phenotype"] = _value_text(comp)
                used = True
            elif _is_activity(comp.get("code")) and slot["activity_score"] is None:
                slot["activity_score"] = _value_text(comp)
                used = True
        if used and ref not in slot["references"]:
            slot["references"].append(ref)
    return [
        GenomicResult(
            gene=gene,
            diplotype=slot["diplotype"],
            phenotype=slot["phenotype"],
            activity_score=slot["activity_score"],
            date=slot["date"],
            references=tuple(slot["references"]),
        )
        for gene, slot in sorted(found.items())
    ]
