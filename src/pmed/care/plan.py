"""Assemble the care plan: run every rule on one `CareContext`, merge, order.

Merging (deterministic): recommendations with the same `key` (e.g. two rules both advising on
`drug:clopidogrel`, or a drug appearing as a draft and as an active order) become one — the most
urgent one leads; the others' rationale, evidence, alternatives and rule names are added without
repeats. A drug-specific recommendation that advises avoiding a drug absorbs a dose
recommendation for the same drug from another rule (no advice to dose a drug one should not
take). The plan is ordered by severity, then topic, then key, so the same record at the same
time gives the same plan.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any

from pmed import __version__
from pmed.care.antithrombotic import antithrombotic_rules
from pmed.care.context import CareContext, MedicationUse
from pmed.care.diabetes import diabetes_rules
from pmed.care.drug_gene import drug_gene_rules
from pmed.care.duplicates import duplicate_rules
from pmed.care.kidney import kidney_rules
from pmed.care.model import SEVERITY_ORDER, CarePlan, Recommendation
from pmed.care.statins import statin_rules
from pmed.findings import Finding, FindingKind, Provenance
from pmed.pgx.findings import PHENOTYPE_CODE
from pmed.record.patient import PatientRecord

__all__ = ["ORDER_RULES", "RULES", "build_plan", "merge"]

Rule = Callable[[CareContext], list[Recommendation]]
RULES: tuple[Rule, ...] = (
    drug_gene_rules,
    statin_rules,
    antithrombotic_rules,
    kidney_rules,
    diabetes_rules,
    duplicate_rules,
)
#: The rules that can address a draft order (order-select / order-sign need no others).
ORDER_RULES: tuple[Rule, ...] = (
    drug_gene_rules,
    antithrombotic_rules,
    kidney_rules,
    duplicate_rules,
)
_STOP = frozenset({"avoid", "use-alternative"})


def _extend(into: list[Any], items: list[Any]) -> None:
    for item in items:
        if item not in into:
            into.append(item)


def merge(recommendations: Sequence[Recommendation]) -> list[Recommendation]:
    """Merge by key (most urgent leads), then order deterministically."""
    by_key: dict[str, Recommendation] = {}
    for rec in sorted(recommendations, key=lambda r: r.rank):
        lead = by_key.get(rec.key)
        if lead is None:
            by_key[rec.key] = rec  # rules build fresh recommendations: merge may own them
            continue
        _extend(lead.rationale, rec.rationale)
        _extend(lead.evidence, rec.evidence)
        _extend(lead.rules, rec.rules)
        known = {a.drug for a in lead.alternatives}
        lead.alternatives.extend(a for a in rec.alternatives if a.drug not in known)
        if lead.order_ref is None:
            lead.order_ref = rec.order_ref
        if lead.explanation is None:
            lead.explanation = rec.explanation
        lead.details.setdefault("merged", []).append(rec.title)
    # An advice to avoid drug X supersedes dose advice on X from other rules (renal:X).
    avoided = {r.drug.display for r in by_key.values() if r.drug is not None and r.action in _STOP}
    for key in sorted(by_key):
        rec = by_key[key]
        if key.startswith("renal:") and rec.action != "avoid" and key[6:] in avoided:
            lead = by_key.get(f"drug:{key[6:]}")
            if lead is not None:
                _extend(lead.rationale, rec.rationale)
                _extend(lead.evidence, rec.evidence)
                _extend(lead.rules, rec.rules)
                lead.details.setdefault("merged", []).append(rec.title)
                del by_key[key]
    return sorted(by_key.values(), key=lambda r: r.rank)


def _genomic_findings(ctx: CareContext) -> list[Finding]:
    """One phenotype finding per pharmacogene result in the record (the report's PGx table)."""
    out = []
    for r in ctx.genomics:
        shown = r.phenotype or r.diplotype or "result"
        out.append(
            Finding(
                kind=FindingKind.PHENOTYPE,
                code=PHENOTYPE_CODE,
                value=r.phenotype,
                summary=f"{r.gene} {r.diplotype or ''}: {shown}".replace(" :", ":"),
                subject=ctx.subject,
                provenance=Provenance(
                    engine="pmed.care", engine_version=__version__, inputs=list(r.references)
                ),
                details={
                    "gene": r.gene,
                    "diplotype": r.diplotype,
                    "phenotype": r.phenotype,
                    "activity_score": r.activity_score,
                    "lookup": ctx.lookup.get(r.gene),
                    "sources": r.sources,
                },
            )
        )
    return out


def build_plan(
    record: PatientRecord,
    *,
    at: date | datetime | None = None,
    drafts: Sequence[MedicationUse] = (),
    rules: Sequence[Rule] = RULES,
    scores: str = "all",
) -> CarePlan:
    """The patient's care plan at `at` (default now), with `drafts` (CDS Hooks draft orders)
    checked alongside the record's active medications. `scores="care"` scores only what the
    rules need (CDS Hooks); `"all"` every applicable calculator (reports)."""
    ctx = CareContext.build(record, at=at, drafts=drafts, scores=scores)
    recs: list[Recommendation] = []
    for rule in rules:
        recs.extend(rule(ctx))
    findings = list(ctx.risks) + _genomic_findings(ctx)
    return CarePlan(
        patient=record.reference,
        at=ctx.at,
        recommendations=merge(recs),
        findings=sorted(
            findings,
            key=lambda f: (
                -SEVERITY_ORDER[f.severity],
                str(f.details.get("calculator", "")),
                f.summary,
            ),
        ),
        notes=list(ctx.inputs.notes),
        inputs=dict(ctx.inputs.values),
        sources=dict(ctx.inputs.sources),
    )
