"""CPIC drug recommendations from a patient's PGx lookup key (the recommender stage, as PharmCAT).

Input is the lookup key the phenotyper produces, one value per gene: a phenotype
(`{"CYP2C19": "Poor Metabolizer"}`), an activity score (`{"DPYD": "1.0"}`) or an HLA allele
status (`{"HLA-B": "*57:01 positive"}`, or an HLA diplotype such as `"*57:01/*08:01"`). The
recommendations come from `pgx/cpic_recommendations` (built by `tools/build_cpic_knowledge.py`
from the CPIC guidelines, https://cpicpgx.org/guidelines/), restated as structured facts.

Rules of matching (CPIC's own conventions):
* a recommendation's lookup key names one or two genes; every gene must match;
* a gene missing from the lookup matches CPIC's "No Result" entry where the guideline has one
  (e.g. thiopurines with TPMT known and NUDT15 untested); otherwise the drug gets a
  `needs-genotype` result naming the gene (no guess);
* activity scores compare as numbers, and "≥X" keys cover scores of X and above;
* "Likely"/"Possible" phenotypes use the confirmed phenotype's entry when the guideline has no
  separate one (CPIC: the strength for "likely" phenotypes equals the confirmed one's).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from typing import Any

from pmed import __version__
from pmed.errors import InputError, KnowledgeError, NotFoundError
from pmed.findings import Code, Evidence, Finding, FindingKind, Provenance, Severity
from pmed.knowledge import load
from pmed.pgx._cpic_text import summarize

__all__ = [
    "DrugInfo",
    "DrugRecommendation",
    "Guideline",
    "drugs",
    "lookup_from_calls",
    "recommend",
    "to_findings",
]

KNOWLEDGE = "pgx/cpic_recommendations"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"

#: Finding severity per action category (most urgent first).
SEVERITY: dict[str, Severity] = {
    "avoid": Severity.HIGH,
    "use-alternative": Severity.HIGH,
    "reduce-dose": Severity.MODERATE,
    "increase-dose": Severity.MODERATE,
    "limit-dose": Severity.MODERATE,
    "consider-alternative": Severity.MODERATE,
    "use-with-caution": Severity.MODERATE,
    "calculate-dose": Severity.MODERATE,
    "titrate-with-monitoring": Severity.LOW,
    "further-testing": Severity.LOW,
    "needs-genotype": Severity.LOW,
    "not-covered": Severity.INFO,
    "use-label-dose": Severity.INFO,
    "no-recommendation": Severity.INFO,
    "not-applicable": Severity.INFO,
    "see-guideline": Severity.LOW,
}

_NO_RESULT = "No Result"
_FACT_KEYS = (
    "dose_factor",
    "dose_factor_range",
    "dose",
    "dose_alternatives",
    "dose_applies_to",
    "dose_basis",
    "dose_frequency",
    "max_dose_mg",
    "if_used",
    "also",
    "monitoring",
    "titration",
    "avoid_interacting",
    "condition_split",
)


@dataclass(frozen=True)
class Guideline:
    id: str
    name: str
    url: str
    pmids: list[str]
    citation: str | None = None
    pharmgkb_url: str | None = None


@dataclass(frozen=True)
class DrugInfo:
    name: str
    genes: list[str]
    rxnorm: str | None
    atc: list[str]
    cpic_level: dict[str, str]
    guideline: Guideline
    recommendations: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class DrugRecommendation:
    """One CPIC recommendation for one drug and one patient lookup key, as structured facts.

    `action` is pmed's category (`use-label-dose`, `reduce-dose`, `avoid`, `use-alternative`, …,
    plus `needs-genotype` when a gene's result is missing and `not-covered` when the guideline
    has no entry for the result); `facts` holds the dose numbers and modifiers (`dose_factor`,
    `dose_factor_range`, `max_dose_mg`, `if_used`, `monitoring`, …).
    """

    drug: str
    rxnorm: str | None
    genes: list[str]
    action: str
    summary: str
    guideline: Guideline
    lookup_key: dict[str, str] = field(default_factory=dict)  # the CPIC key matched
    phenotypes: dict[str, str] = field(default_factory=dict)  # what the caller gave
    population: str = "general"
    strength: str | None = None
    facts: dict[str, Any] = field(default_factory=dict)
    implications: dict[str, str] = field(default_factory=dict)
    missing_genes: list[str] = field(default_factory=list)
    curated: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def dose_factor(self) -> float | None:
        value = self.facts.get("dose_factor")
        return float(value) if value is not None else None

    @property
    def severity(self) -> Severity:
        return SEVERITY.get(self.action, Severity.LOW)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["severity"] = self.severity.value
        return out


# --- knowledge -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Table:
    guidelines: dict[str, Guideline]
    drugs: dict[str, dict[str, Any]]
    recs: dict[str, list[dict[str, Any]]]  # drug -> recommendation entries
    values: dict[tuple[str, str], set[str]]  # (drug, gene) -> CPIC key values
    label: str


@lru_cache(maxsize=1)
def _table() -> _Table:
    knowledge = load(KNOWLEDGE)
    data = knowledge.data
    try:
        guidelines = {
            g["id"]: Guideline(
                id=g["id"],
                name=g["name"],
                url=g["url"],
                pmids=list(g.get("pmids") or []),
                citation=g.get("citation"),
                pharmgkb_url=g.get("pharmgkb_url"),
            )
            for g in data["guidelines"]
        }
        recs: dict[str, list[dict[str, Any]]] = {}
        values: dict[tuple[str, str], set[str]] = {}
        for rec in data["recommendations"]:
            recs.setdefault(rec["drug"], []).append(rec)
            for gene, value in rec["lookup"].items():
                values.setdefault((rec["drug"], gene), set()).add(value)
        drugs_ = dict(data["drugs"])
    except (KeyError, TypeError) as exc:
        raise KnowledgeError(f"knowledge file {KNOWLEDGE!r} is malformed: {exc}") from exc
    return _Table(guidelines, drugs_, recs, values, knowledge.provenance.label())


def drugs() -> list[DrugInfo]:
    """Every drug with a CPIC guideline, with its genes, RxNorm code, ATC codes and guideline."""
    table = _table()
    return [_info(name, meta, table) for name, meta in sorted(table.drugs.items())]


def _info(name: str, meta: Mapping[str, Any], table: _Table) -> DrugInfo:
    return DrugInfo(
        name=name,
        genes=list(meta.get("genes") or []),
        rxnorm=meta.get("rxnorm"),
        atc=list(meta.get("atc") or []),
        cpic_level=dict(meta.get("cpic_level") or {}),
        guideline=table.guidelines[meta["guideline"]],
        recommendations=len(table.recs.get(name, [])),
    )


def _resolve_drug(name: str, table: _Table) -> str:
    key = name.strip().lower()
    if key in table.drugs:
        return key
    aliases = {"5-fluorouracil": "fluorouracil", "5-fu": "fluorouracil"}
    if key in aliases:
        return aliases[key]
    names = sorted(table.drugs)
    close = difflib.get_close_matches(key, names, n=5, cutoff=0.6)
    close += [n for n in names if key and key in n and n not in close][:5]
    hint = f"; did you mean: {', '.join(close)}?" if close else ""
    raise NotFoundError(f"no CPIC guideline for drug {name!r}{hint} (see `pmed pgx drugs`)")


# --- matching --------------------------------------------------------------------------------

_HLA_STATUS = re.compile(r"^\*(\d+:\d+) (positive|negative)$", re.I)
_NUMBER = re.compile(r"^(≥|>=)?\s*(\d+(?:\.\d+)?)$")


def _normalise_lookup(lookup: Mapping[str, str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for gene, value in lookup.items():
        if not isinstance(gene, str) or not isinstance(value, str):
            raise InputError(f"lookup must map gene names to strings, got {gene!r}: {value!r}")
        g = gene.strip().upper()
        v = value.strip()
        if v and v.lower() != "no result":
            out[g] = v
    return out


def _hla_status(given: str, allele: str) -> bool | None:
    """Is HLA `allele` (e.g. '57:01') positive in `given`? None when `given` does not say."""
    statements = re.findall(r"\*(\d+:\d+)(?::\d+)*\s+(positive|negative)", given, re.I)
    if statements:
        for a, status in statements:
            if a == allele:
                return status.lower() == "positive"
        return None
    alleles = re.findall(r"\*(\d+:\d+)", given)
    if "/" in given and alleles:
        return allele in alleles
    return None


def _ifnl3(given: str) -> str:
    g = given.lower().replace(" ", "")
    if "unfavorable" in g or "unfavourable" in g:
        return "unfavorable response genotype"
    if "favorable" in g or "favourable" in g:
        return "favorable response genotype"
    genotype = re.sub(r"^rs12979860", "", g).replace("/", "")
    if genotype == "cc":
        return "favorable response genotype"
    if genotype in {"ct", "tc", "tt"}:
        return "unfavorable response genotype"
    return given.lower()


def _carrier(given: str, allele: str) -> bool | None:
    g = given.lower()
    if g in {f"{allele} carrier", "carrier"}:
        return True
    if g in {f"{allele} noncarrier", f"{allele} non-carrier", "noncarrier"}:
        return False
    alleles = re.findall(r"\*\d+[a-z]?", g)
    return (allele in alleles) if alleles and "/" in g else None


def _match(gene: str, given: str, key: str, known: set[str]) -> bool | None:
    """Does the caller's value match CPIC's key value? None: the value does not tell."""
    if key == "*":
        return True
    if key == _NO_RESULT:
        return False
    m = _HLA_STATUS.match(key)
    if m:
        status = _hla_status(given, m.group(1))
        return None if status is None else status == (m.group(2).lower() == "positive")
    if key.endswith(" carrier"):
        carrier = _carrier(given, key.split()[0])
        return carrier
    if gene == "IFNL3":
        return _ifnl3(given) == key.lower()
    g, k = given.strip().lower(), key.strip().lower()
    if g == k:
        return True
    gm, km = _NUMBER.match(g), _NUMBER.match(k)
    if gm and km and not gm.group(1):
        score = float(gm.group(2))
        if not km.group(1):
            return score == float(km.group(2))
        # "≥X" covers scores of X and above unless a more specific key exists.
        exact = any(_NUMBER.match(v.lower()) and _num(v) == score for v in known if "≥" not in v)
        if exact:
            return False
        floor = max(
            (_num(v) for v in known if v.startswith("≥") and _num(v) <= score),
            default=None,
        )
        return floor is not None and float(km.group(2)) == floor
    stripped = re.sub(r"^(likely|possible) ", "", g)
    if stripped != g and g not in {v.lower() for v in known}:
        return stripped == k
    return False


def _num(value: str) -> float:
    return float(value.lstrip("≥>= "))


def _matches(
    rec: Mapping[str, Any], lookup: Mapping[str, str], known: Mapping[str, set[str]]
) -> tuple[bool, list[str], set[str] | None]:
    """(matched, genes taken as CPIC's 'No Result', genes still needed to decide).

    The third item is None when a given value rules the entry out.
    """
    untested: list[str] = []
    needed: set[str] = set()
    for gene, key in rec["lookup"].items():
        given = lookup.get(gene)
        if given is None:
            if key == _NO_RESULT:
                untested.append(gene)
            else:
                needed.add(gene)
            continue
        result = _match(gene, given, key, known.get(gene, set()))
        if result is None:
            needed.add(gene)
        elif not result:
            return False, [], None
    return not needed, untested, needed


def _recommendation(
    rec: Mapping[str, Any],
    drug: str,
    table: _Table,
    phenotypes: Mapping[str, str],
    untested: list[str],
) -> DrugRecommendation:
    meta = table.drugs[drug]
    facts = {k: rec[k] for k in _FACT_KEYS if k in rec}
    notes = [
        f"{gene} {phenotypes[gene]!r} read as CPIC's {key!r}"
        for gene, key in rec["lookup"].items()
        if gene in phenotypes and key != "*" and phenotypes[gene].lower() != key.lower()
    ]
    if untested:
        notes.append(
            f"{' and '.join(untested)} result missing: this is CPIC's recommendation for an "
            "untested gene; a result would make it specific"
        )
    return DrugRecommendation(
        drug=drug,
        rxnorm=meta.get("rxnorm"),
        genes=list(meta.get("genes") or []),
        action=rec["action"],
        summary=rec["summary"],
        guideline=table.guidelines[rec["guideline"]],
        lookup_key=dict(rec["lookup"]),
        phenotypes={g: phenotypes[g] for g in rec["lookup"] if g in phenotypes},
        population=rec.get("population") or "general",
        strength=rec.get("strength"),
        facts=facts,
        implications=dict(rec.get("implications") or {}),
        missing_genes=list(untested),
        curated=bool(rec.get("curated")),
        notes=notes,
    )


def _unmatched(
    drug: str, table: _Table, phenotypes: Mapping[str, str], needed: Iterable[str]
) -> DrugRecommendation:
    meta = table.drugs[drug]
    genes = list(meta.get("genes") or [])
    guideline = table.guidelines[meta["guideline"]]
    needed = sorted(set(needed))
    given = {g: phenotypes[g] for g in genes if g in phenotypes}
    if needed:
        missing = " and ".join(needed)
        hla = [g for g in needed if g.startswith("HLA-") and g in phenotypes]
        alleles = sorted(
            {
                v
                for (d, g), vals in table.values.items()
                if d == drug and g in hla
                for v in vals
                if v != _NO_RESULT
            }
        )
        note = (
            [f"{', '.join(hla)} value does not state the needed allele: {', '.join(alleles)}"]
            if hla
            else []
        )
        facts = {"action": "needs-genotype"}
        summary = summarize(drug, {}, facts, missing=missing)
        return DrugRecommendation(
            drug=drug,
            rxnorm=meta.get("rxnorm"),
            genes=genes,
            action="needs-genotype",
            summary=summary,
            guideline=guideline,
            phenotypes=given,
            missing_genes=needed,
            notes=note,
        )
    known = {
        g: sorted(v for v in table.values.get((drug, g), set()) if v != _NO_RESULT) for g in given
    }
    note = [f"CPIC {g} values for {drug}: {', '.join(vals)}" for g, vals in known.items()]
    summary = summarize(drug, given, {"action": "not-covered"})
    return DrugRecommendation(
        drug=drug,
        rxnorm=meta.get("rxnorm"),
        genes=genes,
        action="not-covered",
        summary=summary,
        guideline=guideline,
        phenotypes=given,
        notes=note,
    )


def recommend(
    lookup: Mapping[str, str], drugs: Sequence[str] | None = None
) -> list[DrugRecommendation]:
    """CPIC recommendations for the patient's `lookup` (gene → phenotype / activity score).

    `drugs` names the drugs to look up (unknown names raise `NotFoundError` listing close
    names); `None` means every drug whose guideline uses at least one gene in `lookup`.
    A drug with several populations (e.g. clopidogrel: ACS/PCI, non-ACS, neurovascular) gets
    one recommendation per population.
    """
    table = _table()
    phenotypes = _normalise_lookup(lookup)
    if drugs is None:
        names = [
            name
            for name, meta in sorted(table.drugs.items())
            if set(meta.get("genes") or []) & set(phenotypes)
        ]
    else:
        if isinstance(drugs, str):
            drugs = [drugs]
        names = list(dict.fromkeys(_resolve_drug(d, table) for d in drugs))
    out: list[DrugRecommendation] = []
    for name in names:
        known = {gene: vals for (drug, gene), vals in table.values.items() if drug == name}
        found: list[DrugRecommendation] = []
        candidates: list[set[str]] = []
        for rec in table.recs.get(name, []):
            ok, untested, needed = _matches(rec, phenotypes, known)
            if ok:
                found.append(_recommendation(rec, name, table, phenotypes, untested))
            elif needed:
                candidates.append(needed)
        if not found:
            # The fewest genes that would let some entry match (e.g. warfarin: VKORC1, not the
            # optional CYP4F2 modifier).
            fewest = min(candidates, key=len) if candidates else set()
            out.append(_unmatched(name, table, phenotypes, fewest))
        out.extend(found)
    return out


#: Genes whose CPIC entries are keyed by allele carriage, so a diplotype can stand in for a key.
_DIPLOTYPE_KEYED = {"CYP4F2", "HLA-A", "HLA-B"}


def lookup_from_calls(calls: Any) -> dict[str, str]:
    """The lookup for `recommend` from one sample's calls (`pmed.pgx.SampleCalls`).

    Uses each gene's `lookup_key`; for allele-carriage genes without one (CYP4F2) a single
    diplotype is used. Genes without a call are left out (the recommender then names them).
    """
    lookup: dict[str, str] = {}
    for gene, call in calls.genes.items():
        if call.lookup_key:
            lookup[gene] = str(call.lookup_key)
        elif gene in _DIPLOTYPE_KEYED and len(call.diplotypes) == 1:
            lookup[gene] = str(call.diplotypes[0])
    return lookup


# --- findings --------------------------------------------------------------------------------


def to_findings(
    recommendations: Iterable[DrugRecommendation],
    *,
    subject: str | None = None,
    inputs: Sequence[str] = (),
) -> list[Finding]:
    """Each recommendation as a `Finding` (kind recommendation, RxNorm code, CPIC citation)."""
    table = _table()
    findings = []
    for rec in recommendations:
        g = rec.guideline
        evidence = Evidence(
            title=g.citation or g.name,
            url=g.url,
            strength=rec.strength,
            detail=(f"PMID {', '.join(g.pmids)}; " if g.pmids else "")
            + f"{g.name}; population: {rec.population}",
        )
        findings.append(
            Finding(
                kind=FindingKind.RECOMMENDATION,
                code=Code(system=RXNORM, code=rec.rxnorm or rec.drug, display=rec.drug),
                value=rec.action,
                summary=rec.summary,
                severity=rec.severity,
                subject=subject,
                evidence=[evidence],
                provenance=Provenance(
                    engine="pmed.pgx.recommender",
                    engine_version=__version__,
                    knowledge={KNOWLEDGE: table.label},
                    inputs=list(inputs),
                ),
                details={
                    "lookup_key": rec.lookup_key,
                    "phenotypes": rec.phenotypes,
                    "population": rec.population,
                    "facts": rec.facts,
                    "implications": rec.implications,
                    "missing_genes": rec.missing_genes,
                    "curated": rec.curated,
                },
            )
        )
    return findings
