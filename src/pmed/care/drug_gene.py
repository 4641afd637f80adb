"""Drug–gene rule: every active or ordered drug against the patient's pharmacogene results.

Rests on the CPIC guidelines through `pmed.pgx.recommend` (Relling & Klein, Clin Pharmacol Ther
2011;89:464-467; each guideline cited on its recommendation). A drug with a CPIC guideline whose
genes the record has results for gets the guideline's action; an action other than "use the label
dose" becomes a recommendation, with CPIC's named alternatives (`care/alternatives`) or, for
statins, the statins CPIC 2022 allows at this genotype (`pmed.care.statins.statin_options`).
Drugs whose genes are untested get no recommendation here: the report lists the missing genes.
"""

from __future__ import annotations

from functools import lru_cache

from pmed.care.context import CareContext, MedicationUse
from pmed.care.model import Alternative, Recommendation
from pmed.care.statins import STATIN_NAMES, statin_options
from pmed.findings import Code, Evidence, Severity
from pmed.knowledge import load
from pmed.pgx import DrugRecommendation, drugs, recommend

__all__ = ["QUIET_ACTIONS", "drug_gene_rules", "pgx_recommendations"]

RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
QUIET_ACTIONS = frozenset(
    {"use-label-dose", "no-recommendation", "not-applicable", "not-covered", "needs-genotype"}
)
_PLAIN = {
    "avoid": "This medicine may not work well or may cause side effects for you because of "
    "your genes. Ask your clinician about a different one.",
    "use-alternative": "Your genes change how your body handles this medicine. A different "
    "medicine is likely to work better for you.",
    "consider-alternative": "Your genes may change how this medicine works for you. Ask if "
    "another medicine would be better.",
    "reduce-dose": "Your genes mean a smaller dose of this medicine is likely right for you.",
    "limit-dose": "Your genes mean you should not take a high dose of this medicine.",
    "increase-dose": "Your genes mean you may need a bigger dose of this medicine.",
    "calculate-dose": "Your genes help work out the right dose of this medicine for you.",
}


@lru_cache(maxsize=1)
def _cpic_index() -> dict[str, tuple[str, ...]]:
    return {d.name: tuple(d.genes) for d in drugs()}


@lru_cache(maxsize=4096)
def _recommend(lookup: tuple[tuple[str, str], ...], drug: str) -> tuple[DrugRecommendation, ...]:
    """`pmed.pgx.recommend` for one drug, memoised (recommendations are frozen values)."""
    return tuple(recommend(dict(lookup), drugs=[drug]))


def pgx_recommendations(ctx: CareContext, use: MedicationUse) -> list[DrugRecommendation]:
    """CPIC recommendations for one medication's ingredients (only where a gene is known)."""
    index = _cpic_index()
    out: list[DrugRecommendation] = []
    for name in use.names:
        genes = index.get(name)
        if not genes or not set(genes) & set(ctx.lookup):
            continue
        out.extend(_recommend(tuple(sorted(ctx.lookup.items())), name))
    return out


def _alternatives(ctx: CareContext, drug: str) -> tuple[list[Alternative], list[Evidence]]:
    if drug in STATIN_NAMES:
        options = statin_options(ctx.lookup, exclude=drug)
        return options, []
    known = load("care/alternatives").data["drugs"].get(drug)
    if not known:
        return [], []
    alts = [
        Alternative(drug=d["name"], rxnorm=d["rxnorm"], note=known["note"], recommended=i == 0)
        for i, d in enumerate(known["drugs"])
    ]
    return alts, [Evidence(title=known["source"], url=known["url"])]


def drug_gene_rules(ctx: CareContext) -> list[Recommendation]:
    out: list[Recommendation] = []
    for use in ctx.medications():
        recs = [r for r in pgx_recommendations(ctx, use) if r.action not in QUIET_ACTIONS]
        if not recs:
            continue
        recs.sort(key=lambda r: (-list(Severity).index(r.severity), r.population))
        top = recs[0]
        genes = {g: ctx.lookup[g] for g in top.genes if g in ctx.lookup}
        sources = sorted({s for g in genes for s in ctx.genotype_sources.get(g, [])})
        alternatives, alt_evidence = _alternatives(ctx, top.drug)
        if top.action == "limit-dose" and top.facts.get("max_dose_mg") is not None:
            cap = float(top.facts["max_dose_mg"])
            alternatives.insert(
                0,
                Alternative(
                    drug=top.drug,
                    rxnorm=top.rxnorm,
                    max_dose_mg=cap,
                    dose=f"at most {cap:g} mg/day",
                    note="CPIC dose limit for this genotype",
                    recommended=True,
                ),
            )
            if use.daily_dose_mg is not None and use.daily_dose_mg <= cap:
                continue  # the order already respects the limit
        g = top.guideline
        evidence = [
            Evidence(
                title=g.citation or g.name,
                url=g.url,
                strength=top.strength,
                detail="; ".join(f"{r.population}: {r.action} ({r.strength})" for r in recs),
            ),
            *alt_evidence,
        ]
        populations = "; ".join(f"{r.population}: {r.summary}" for r in recs[1:])
        rationale = [f"{gene} {value}" for gene, value in genes.items()]
        rationale += [f"{use.display} ({use.reference})"] + [f"genotype from {s}" for s in sources]
        out.append(
            Recommendation(
                key=f"drug:{top.drug}",
                topic="drug-gene",
                title=top.summary.split(". CPIC strength")[0],
                action=top.action,
                detail=top.summary + (f" Other populations — {populations}" if populations else ""),
                strength=top.strength,
                severity=top.severity,
                rationale=rationale,
                evidence=evidence,
                drug=Code(system=RXNORM, code=top.rxnorm or top.drug, display=top.drug),
                alternatives=alternatives,
                order_ref=use.reference if use.draft else None,
                patient_text=_PLAIN.get(top.action, "Your genes affect this medicine.")
                + f" ({top.drug})",
                rules=["drug-gene (CPIC)"],
                details={"facts": top.facts, "lookup_key": top.lookup_key, "genes": genes},
            )
        )
    return out
