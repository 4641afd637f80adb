"""A sample's gene calls as `Finding`s: one genotype and one phenotype finding per called gene.

Codes follow the HL7 Genomics Reporting IG (STU2): LOINC 84413-4 "Genotype display name" for the
diplotype, LOINC 53040-2 "Genetic variation's effect on drug metabolism" for the phenotype;
the gene is an HGNC symbol (details["gene"]).
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from pmed.findings import Code, Evidence, Finding, FindingKind, Provenance, Severity
from pmed.pgx.definitions import knowledge_label
from pmed.pgx.models import SampleCalls

__all__ = ["GENOTYPE_CODE", "PHENOTYPE_CODE", "gene_findings"]

LOINC = "http://loinc.org"
GENOTYPE_CODE = Code(system=LOINC, code="84413-4", display="Genotype display name")
PHENOTYPE_CODE = Code(
    system=LOINC, code="53040-2", display="Genetic variation's effect on drug metabolism"
)
_NORMAL = ("normal", "favorable", "uncertain susceptibility", "non-responsive")
_PHARMCAT = Evidence(
    title="PharmCAT named-allele matcher and CPIC allele function / phenotype tables",
    url="https://pharmcat.clinpgx.org/methods/NamedAlleleMatcher-101/",
)


def _engine_version() -> str:
    try:
        return version("pmed")
    except PackageNotFoundError:
        return "0"


def _severity(phenotype: str | None) -> Severity:
    if not phenotype or phenotype == "Indeterminate":
        return Severity.INFO
    low = phenotype.lower()
    return Severity.INFO if any(w in low for w in _NORMAL) else Severity.MODERATE


def gene_findings(calls: SampleCalls, subject: str | None = None) -> list[Finding]:
    """Genotype and phenotype findings for every gene of one sample (uncalled genes: none)."""
    prov = Provenance(
        engine="pmed.pgx",
        engine_version=_engine_version(),
        knowledge={"pgx/definitions": knowledge_label()},
        inputs=[calls.source_file] if calls.source_file else [],
    )
    out: list[Finding] = []
    for gene, c in calls.genes.items():
        details = {
            "gene": gene,
            "sample": calls.sample,
            "build": calls.build,
            "diplotypes": list(c.diplotypes),
            "phenotype": c.phenotype,
            "activity_score": c.activity_score,
            "lookup_key": c.lookup_key,
            "missing_positions": list(c.missing_positions),
            "source": c.source,
            "phased": c.phased,
            "notes": list(c.notes),
        }
        if c.diplotypes:
            shown = " or ".join(f"{gene} {d}" for d in c.diplotypes)
            out.append(
                Finding(
                    kind=FindingKind.GENOTYPE,
                    code=GENOTYPE_CODE,
                    value="; ".join(c.diplotypes),
                    summary=f"{shown}"
                    + (
                        f" ({len(c.missing_positions)} positions not in the VCF)"
                        if c.missing_positions
                        else ""
                    ),
                    subject=subject,
                    evidence=[_PHARMCAT],
                    provenance=prov,
                    details=details,
                )
            )
        if c.phenotype:
            score = f", activity score {c.activity_score}" if c.activity_score else ""
            out.append(
                Finding(
                    kind=FindingKind.PHENOTYPE,
                    code=PHENOTYPE_CODE,
                    value=c.phenotype,
                    summary=f"{gene}: {c.phenotype}{score}",
                    severity=_severity(c.phenotype),
                    subject=subject,
                    evidence=[_PHARMCAT],
                    provenance=prov,
                    details=details,
                )
            )
    return out
