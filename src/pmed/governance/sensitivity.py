"""Sensitive categories of health information: which resources are genomic, mental-health or
sexual-health data, by explicit security label or by code.

Categories are the HL7 v3 ActCode information-sensitivity codes (HL7 Healthcare Privacy and
Security Classification System, "InformationSensitivityPolicy"): `GDIS` genetic disease,
`PSY` psychiatry, `BH` behavioural health, `ETH`/`SUD` substance use, `SEX` sexuality and
reproductive health, `STD` sexually transmitted disease, `HIV`. A resource carries a label when
its `meta.security` says so, or when its codes fall in the small code sets below (ICD-10-CM
chapter ranges and SNOMED CT / LOINC concepts commonly used for segmentation, after the SAMHSA
Consent2Share value sets); the categories the API and consent speak of group these labels.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

__all__ = [
    "ACT_CODE",
    "CATEGORIES",
    "GENOMIC_LOINC",
    "categories_of",
    "labels_of",
    "resource_codes",
]

ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
ICD10 = ("http://hl7.org/fhir/sid/icd-10-cm", "http://hl7.org/fhir/sid/icd-10")
SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"

#: Named categories (as used in `pmed` Consent provisions) and the labels they group.
CATEGORIES: dict[str, frozenset[str]] = {
    "genomics": frozenset({"GDIS"}),
    "mental-health": frozenset({"PSY", "BH", "ETH", "SUD"}),
    "sexual-health": frozenset({"SEX", "STD", "HIV"}),
}

_GENOMIC_TYPES = frozenset({"MolecularSequence"})
#: LOINC codes of genomic results (HL7 Genomics Reporting IG and PGx reporting).
GENOMIC_LOINC = frozenset(
    {
        "51969-4",  # Genetic analysis report
        "69548-6",  # Genetic variant assessment
        "81247-9",  # Master HL7 genetic variant reporting panel
        "84413-4",  # Genotype display name
        "53040-2",  # Genetic variation's effect on drug metabolism (PGx phenotype)
        "51963-7",  # Medication assessment [Type] (PGx therapeutic implication)
        "53037-8",  # Genetic disease analysis
        "48018-6",  # Gene studied
        "81259-4",  # Associated phenotype
        "82121-5",  # Allelic read depth
        "48004-6",  # DNA change (c.HGVS)
        "48005-3",  # Amino acid change (p.HGVS)
        "81252-9",  # Discrete genetic variant
        "93364-8",  # Genotype and Phenotype summary panel (pharmacogenomics)
        "79716-7",  # Medication assessment (pharmacogenomics)
    }
)
_GENOMIC_CATEGORY = frozenset({"GE", "genetics", "genomics"})

_PSY_SNOMED = frozenset(
    {
        "35489007",  # Depressive disorder
        "370143000",  # Major depressive disorder
        "58214004",  # Schizophrenia
        "13746004",  # Bipolar disorder
        "197480006",  # Anxiety disorder
        "47505003",  # Posttraumatic stress disorder
        "191736004",  # Obsessive-compulsive disorder
        "72366004",  # Eating disorder
        "406506008",  # Attention deficit hyperactivity disorder
        "69322001",  # Psychotic disorder
        "74732009",  # Mental disorder
    }
)
_SUD_SNOMED = frozenset(
    {
        "66590003",  # Alcohol dependence
        "7200002",  # Alcoholism
        "191816009",  # Drug dependence
        "75544000",  # Opioid dependence
        "5602001",  # Opioid abuse
    }
)
_SEX_SNOMED = frozenset(
    {
        "86406008",  # HIV infection
        "165816005",  # HIV positive
        "15628003",  # Gonorrhoea
        "76272004",  # Syphilis
        "105629000",  # Chlamydial infection
        "33839006",  # Genital herpes
        "240589008",  # Chlamydia trachomatis infection
    }
)
_HIV_LOINC = frozenset({"75622-1", "7917-8", "5221-7", "25836-8", "56888-1", "68961-2"})


def _icd10_label(code: str) -> str | None:
    c = code.upper().replace(".", "")
    if c[:1] == "F" and c[1:3].isdigit():
        return "ETH" if 10 <= int(c[1:3]) <= 19 else "PSY"
    if c[:3] in {"B20", "B21", "B22", "B23", "B24", "Z21"}:
        return "HIV"
    if c[:1] == "A" and c[1:3].isdigit() and 50 <= int(c[1:3]) <= 64:
        return "STD"
    return None


def _codings(node: Any) -> Iterable[Mapping[str, Any]]:
    for item in node if isinstance(node, list) else [node]:
        if isinstance(item, Mapping):
            for coding in item.get("coding") or []:
                if isinstance(coding, Mapping):
                    yield coding


def resource_codes(resource: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(system, code) pairs of a resource's `code`, `category`, `medicationCodeableConcept`,
    `valueCodeableConcept` and `type`."""
    pairs: list[tuple[str, str]] = []
    for name in ("code", "category", "medicationCodeableConcept", "valueCodeableConcept", "type"):
        for coding in _codings(resource.get(name)):
            pairs.append((str(coding.get("system", "")), str(coding.get("code", ""))))
    return pairs


def labels_of(resource: Mapping[str, Any]) -> frozenset[str]:
    """The v3 sensitivity labels that apply to a resource (explicit and inferred from codes)."""
    labels: set[str] = set()
    meta = resource.get("meta") or {}
    for coding in meta.get("security") or []:
        if isinstance(coding, Mapping) and isinstance(coding.get("code"), str):
            labels.add(coding["code"])
    if any("genomics-reporting" in str(p) for p in meta.get("profile") or []):
        labels.add("GDIS")
    if resource.get("resourceType") in _GENOMIC_TYPES:
        labels.add("GDIS")
    for system, code in resource_codes(resource):
        if (system == LOINC and code in GENOMIC_LOINC) or code in _GENOMIC_CATEGORY:
            labels.add("GDIS")
        elif system == LOINC and code in _HIV_LOINC:
            labels.add("HIV")
        elif system in ICD10:
            label = _icd10_label(code)
            if label:
                labels.add(label)
        elif system == SNOMED:
            if code in _PSY_SNOMED:
                labels.add("PSY")
            elif code in _SUD_SNOMED:
                labels.add("SUD")
            elif code in _SEX_SNOMED:
                labels.add("HIV" if code in {"86406008", "165816005"} else "STD")
    return frozenset(labels)


def categories_of(resource: Mapping[str, Any]) -> frozenset[str]:
    """The named categories (genomics, mental-health, sexual-health) a resource belongs to."""
    labels = labels_of(resource)
    return frozenset(name for name, members in CATEGORIES.items() if labels & members)
