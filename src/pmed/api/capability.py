"""`/metadata`: the CapabilityStatement, generated from what this server actually does.

Resource types come from `resource_types`, search parameters from
`pmed.record.search.supported_params` (with their kinds from `search_params.SEARCH_PARAMS`), and
the interactions and operations are the routes this package registers (FHIR R4
capabilitystatement.html; Bulk Data export from the FHIR Bulk Data Access IG v2).
"""

from __future__ import annotations

from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from pmed.api.content import check_acceptable, fhir_response
from pmed.api.paging import base_url
from pmed.api.resource_types import R4_RESOURCE_TYPES
from pmed.record.search import supported_params
from pmed.record.search_params import SEARCH_PARAMS

__all__ = ["capability_statement", "router"]

router = APIRouter(tags=["FHIR capabilities"])

_NOT_STORED = {"OperationOutcome", "Parameters", "CapabilityStatement"}
_COMMON_KINDS = {"_id": "token", "_lastUpdated": "date", "patient": "reference"}
_INTERACTIONS = ["read", "vread", "update", "delete", "history-instance", "create", "search-type"]
_EXPORT = "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export"
_PATIENT_EXPORT = "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/patient-export"
_EVERYTHING = "http://hl7.org/fhir/OperationDefinition/Patient-everything"


def _pmed_version() -> str:
    try:
        return version("pmed")
    except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "0+unknown"


def _search_params(rtype: str) -> list[dict[str, str]]:
    defined = SEARCH_PARAMS.get(rtype, {})
    params = []
    for name in supported_params(rtype):
        kind = defined[name][0] if name in defined else _COMMON_KINDS.get(name, "token")
        params.append({"name": name, "type": kind})
    return params


def _resource(rtype: str) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "type": rtype,
        "interaction": [{"code": code} for code in _INTERACTIONS],
        "versioning": "versioned-update",
        "readHistory": True,
        "updateCreate": True,
        "conditionalCreate": True,
        "conditionalRead": "not-match",
        "conditionalUpdate": False,
        "conditionalDelete": "not-supported",
        "searchParam": _search_params(rtype),
    }
    if rtype == "Patient":
        entry["operation"] = [
            {"name": "everything", "definition": _EVERYTHING},
            {"name": "export", "definition": _PATIENT_EXPORT},
        ]
    return entry


def capability_statement(base: str) -> dict[str, Any]:
    """The CapabilityStatement of this server, reachable at `base`."""
    pmed_version = _pmed_version()
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "publisher": "pmed",
        "kind": "instance",
        "software": {"name": "pmed", "version": pmed_version},
        "implementation": {"description": "pmed FHIR R4 server", "url": base},
        "fhirVersion": "4.0.1",
        "format": ["application/fhir+json", "json"],
        "rest": [
            {
                "mode": "server",
                "resource": [_resource(t) for t in sorted(R4_RESOURCE_TYPES - _NOT_STORED)],
                "interaction": [{"code": "transaction"}, {"code": "batch"}],
                "searchParam": [
                    {"name": "_count", "type": "number"},
                    {"name": "_sort", "type": "string"},
                    {"name": "_summary", "type": "token"},
                    {"name": "_elements", "type": "string"},
                ],
                "operation": [{"name": "export", "definition": _EXPORT}],
            }
        ],
    }


@router.get("/metadata", summary="CapabilityStatement", response_model=None)
def metadata(request: Request) -> Response:
    check_acceptable(request)
    return fhir_response(capability_statement(base_url(request)), request=request)
