"""Findings as FHIR R4 resources (DESIGN.md: one module maps findings to FHIR).

`finding_to_fhir(finding, subject)` dispatches on `finding.kind`: genotype and phenotype findings
become HL7 Genomics Reporting IG Observations (`genomics.py`); risk and dose findings become
RiskAssessment / MedicationRequest suggestions (`risk.py`).
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from pmed.errors import InputError
from pmed.findings import Finding, FindingKind

__all__ = ["finding_to_fhir"]

_MODULES = {
    FindingKind.GENOTYPE: "pmed.record.fhir_output.genomics",
    FindingKind.PHENOTYPE: "pmed.record.fhir_output.genomics",
    FindingKind.RISK: "pmed.record.fhir_output.risk",
    FindingKind.SCORE: "pmed.record.fhir_output.risk",
    FindingKind.DOSE: "pmed.record.fhir_output.risk",
}


def finding_to_fhir(finding: Finding, subject: str) -> dict[str, Any]:
    """The FHIR resource for one finding about `subject` ("Patient/<id>" or a bare id)."""
    module = _MODULES.get(finding.kind)
    if module is None:
        raise InputError(f"no FHIR mapping for findings of kind {finding.kind.value!r}")
    mapper = import_module(module)
    resource: dict[str, Any] = mapper.finding_to_fhir(finding, subject)
    return resource
