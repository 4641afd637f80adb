"""PGx findings as HL7 Genomics Reporting IG (STU2, http://hl7.org/fhir/uv/genomics-reporting)
Observations.

- genotype: profile `genotype`, code LOINC 84413-4 "Genotype display name", value the diplotype
  (`CYP2C19 *1/*2`), component 48018-6 "Gene studied [ID]" (HGNC).
- phenotype: profile `therapeutic-implication`, code LOINC 53040-2 "Genetic variation's effect
  on drug metabolism" (also as the IG's `predicted-phenotype` component), value the phenotype,
  the activity score as a component, `derivedFrom` the genotype Observation.
Ids are derived from subject, gene and kind, so ingesting the same VCF again updates in place.
"""

from __future__ import annotations

import hashlib
from datetime import UTC
from typing import Any

from pmed.findings import Finding, FindingKind

__all__ = ["finding_to_fhir", "observation_id", "sample_observations"]

IG = "http://hl7.org/fhir/uv/genomics-reporting/StructureDefinition"
LOINC = "http://loinc.org"
HGNC = "http://www.genenames.org/geneId"
IG_CS = "http://hl7.org/fhir/uv/genomics-reporting/CodeSystem/tbd-codes-cs"
LAB = {
    "coding": [
        {
            "system": "http://terminology.hl7.org/CodeSystem/observation-category",
            "code": "laboratory",
        }
    ]
}
GENOMICS = {
    "coding": [
        {
            "system": "http://terminology.hl7.org/CodeSystem/v2-0074",
            "code": "GE",
            "display": "Genetics",
        }
    ]
}
HGNC_IDS = {
    "ABCG2": "HGNC:74",
    "CACNA1S": "HGNC:1397",
    "CFTR": "HGNC:1884",
    "CYP2B6": "HGNC:2615",
    "CYP2C19": "HGNC:2621",
    "CYP2C9": "HGNC:2623",
    "CYP2D6": "HGNC:2625",
    "CYP3A4": "HGNC:2637",
    "CYP3A5": "HGNC:2638",
    "CYP4F2": "HGNC:2645",
    "DPYD": "HGNC:3012",
    "G6PD": "HGNC:4057",
    "HLA-A": "HGNC:4931",
    "HLA-B": "HGNC:4932",
    "IFNL3": "HGNC:18364",
    "MT-RNR1": "HGNC:7470",
    "NAT2": "HGNC:7646",
    "NUDT15": "HGNC:23063",
    "RYR1": "HGNC:10483",
    "SLCO1B1": "HGNC:10959",
    "TPMT": "HGNC:12014",
    "UGT1A1": "HGNC:12530",
    "VKORC1": "HGNC:23663",
}


def _subject_ref(subject: str) -> str:
    return subject if "/" in subject else f"Patient/{subject}"


def observation_id(subject: str, gene: str, kind: str) -> str:
    digest = hashlib.sha1(f"{_subject_ref(subject)}|{gene}|{kind}".encode()).hexdigest()[:20]
    return f"pgx-{kind[:5]}-{digest}"


def _gene_component(gene: str) -> dict[str, Any]:
    coding: dict[str, Any] = {"system": HGNC, "display": gene}
    coding["code"] = HGNC_IDS.get(gene, gene)
    return {
        "code": {"coding": [{"system": LOINC, "code": "48018-6", "display": "Gene studied [ID]"}]},
        "valueCodeableConcept": {"coding": [coding], "text": gene},
    }


def _note(details: dict[str, Any]) -> list[dict[str, str]]:
    notes = []
    if details.get("missing_positions"):
        notes.append(
            f"{len(details['missing_positions'])} definition positions not in the VCF: "
            + ", ".join(str(p) for p in details["missing_positions"][:50])
        )
    notes.extend(str(n) for n in details.get("notes") or ())
    if details.get("build") and details["build"] != "GRCh38":
        notes.append(f"called from a {details['build']} VCF")
    return [{"text": n} for n in notes]


def finding_to_fhir(finding: Finding, subject: str) -> dict[str, Any]:
    """One Genomics Reporting IG Observation for a genotype or phenotype finding."""
    details = finding.details
    gene = str(details.get("gene") or "")
    subject_ref = _subject_ref(subject)
    issued = finding.provenance.generated.astimezone(UTC).isoformat().replace("+00:00", "Z")
    method = {"text": f"{finding.provenance.engine} {finding.provenance.engine_version}"}
    obs: dict[str, Any] = {
        "resourceType": "Observation",
        "status": "final",
        "category": [LAB, {"coding": GENOMICS["coding"]}],
        "subject": {"reference": subject_ref},
        "effectiveDateTime": issued,
        "issued": issued,
        "method": method,
    }
    if finding.kind == FindingKind.GENOTYPE:
        obs["id"] = observation_id(subject_ref, gene, "genotype")
        obs["meta"] = {"profile": [f"{IG}/genotype"]}
        obs["code"] = {
            "coding": [{"system": LOINC, "code": "84413-4", "display": "Genotype display name"}]
        }
        obs["valueCodeableConcept"] = {"text": f"{gene} {finding.value}"}
        obs["component"] = [_gene_component(gene)]
    elif finding.kind == FindingKind.PHENOTYPE:
        obs["id"] = observation_id(subject_ref, gene, "phenotype")
        obs["meta"] = {"profile": [f"{IG}/therapeutic-implication"]}
        code = {
            "system": LOINC,
            "code": "53040-2",
            "display": "Genetic variation's effect on drug metabolism",
        }
        obs["code"] = {"coding": [code]}
        obs["valueCodeableConcept"] = {"text": str(finding.value)}
        comps = [
            _gene_component(gene),
            {
                "code": {"coding": [{"system": IG_CS, "code": "predicted-phenotype"}]},
                "valueCodeableConcept": {"text": str(finding.value)},
            },
        ]
        if details.get("activity_score"):
            comps.append(
                {
                    "code": {"text": "activity score"},
                    "valueString": str(details["activity_score"]),
                }
            )
        if details.get("lookup_key"):
            comps.append(
                {"code": {"text": "CPIC lookup key"}, "valueString": str(details["lookup_key"])}
            )
        obs["component"] = comps
        if details.get("diplotypes"):
            obs["derivedFrom"] = [
                {"reference": f"Observation/{observation_id(subject_ref, gene, 'genotype')}"}
            ]
    else:
        raise ValueError(f"genomics mapping takes genotype/phenotype findings, not {finding.kind}")
    notes = _note(details)
    if notes:
        obs["note"] = notes
    return obs


def sample_observations(findings: list[Finding], subject: str) -> list[dict[str, Any]]:
    """All Observations of a sample's findings, genotype before phenotype for each gene."""
    order = {FindingKind.GENOTYPE: 0, FindingKind.PHENOTYPE: 1}
    ordered = sorted(findings, key=lambda f: (str(f.details.get("gene")), order.get(f.kind, 2)))
    return [finding_to_fhir(f, subject) for f in ordered]
