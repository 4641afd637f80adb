"""The FHIR data a CDS Hooks call runs on: prefetch checked against our templates, the rest
fetched — from the client's `fhirServer` with its `fhirAuthorization` when given, else from pmed's
own store through the request's `AccessContext` (so consent and audit apply).

CDS Hooks 2.0 (https://cds-hooks.hl7.org/2.0/#prefetch-template): a prefetch key the client did
not satisfy is absent, a key with no data is null; the service fetches what is missing and answers
412 when it cannot. Data of the wrong shape (a prefetched `patient` that is not the context's
Patient, a search Bundle holding another resource type) is the client's error: 400.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import httpx

from pmed.api.access import AccessContext
from pmed.api.problem import ApiProblem
from pmed.errors import NotFoundError
from pmed.record.validation import validate

__all__ = ["PREFETCH", "PREFETCH_TYPES", "check_resource", "gather"]

PREFETCH = {
    "patient": "Patient/{{context.patientId}}",
    "conditions": "Condition?patient={{context.patientId}}",
    "medications": "MedicationRequest?patient={{context.patientId}}",
    "statements": "MedicationStatement?patient={{context.patientId}}",
    "observations": "Observation?patient={{context.patientId}}",
    "family": "FamilyMemberHistory?patient={{context.patientId}}",
}
PREFETCH_TYPES = {
    "patient": "Patient",
    "conditions": "Condition",
    "medications": "MedicationRequest",
    "statements": "MedicationStatement",
    "observations": "Observation",
    "family": "FamilyMemberHistory",
}
_MAX_PAGES = 20
_TIMEOUT = httpx.Timeout(5.0, connect=2.0)


def _bad(message: str, expression: str) -> ApiProblem:
    return ApiProblem(400, message, code="invalid", expression=expression)


def check_resource(resource: Mapping[str, Any], where: str, *, status: int = 400) -> None:
    """FHIR R4 structural validation (`pmed.record.validation`) of a resource handed to us:
    nothing malformed reaches the engines (no card on data we had to guess at). Elements R4
    does not define are tolerated — they are never read (the spec's own R4 order-sign example
    puts an STU3-style `doseQuantity` directly in `dosageInstruction`) — but wrong types,
    missing required elements and bad primitives are refused."""
    issues = [i for i in validate(dict(resource)) if i.message != "unknown element"]
    if issues:
        first = issues[0]
        more = f" (and {len(issues) - 1} more)" if len(issues) > 1 else ""
        raise ApiProblem(
            status,
            f"{where} is not a valid FHIR R4 resource: {first}{more}",
            code="invalid" if status == 400 else "processing",
            expression=f"{where}.{first.path.split('.', 1)[-1]}" if first.path else where,
        )


def _precondition(message: str) -> ApiProblem:
    return ApiProblem(412, message, code="processing")


def _bundle_resources(value: Any, key: str, status: int = 400) -> list[dict[str, Any]]:
    """Resources of a prefetched search Bundle, each of the template's type (OperationOutcome
    entries, which servers add as search warnings, are skipped)."""
    wanted = PREFETCH_TYPES[key]
    if not isinstance(value, Mapping) or value.get("resourceType") != "Bundle":
        got = value.get("resourceType") if isinstance(value, Mapping) else type(value).__name__
        raise _bad(f"prefetch {key!r} must be a Bundle of {wanted}, got {got}", f"prefetch.{key}")
    entries = value.get("entry") or []
    if not isinstance(entries, list):
        raise _bad(f"prefetch {key!r}: Bundle.entry must be an array", f"prefetch.{key}.entry")
    out = []
    for i, entry in enumerate(entries):
        resource = entry.get("resource") if isinstance(entry, Mapping) else None
        rtype = resource.get("resourceType") if isinstance(resource, Mapping) else None
        if rtype == "OperationOutcome":
            continue
        if rtype != wanted and not (key == "medications" and rtype == "Medication"):
            raise _bad(
                f"prefetch {key!r} entry {i} is {rtype or 'not a resource'}, expected {wanted}",
                f"prefetch.{key}.entry[{i}]",
            )
        check_resource(resource, f"prefetch.{key}.entry[{i}].resource", status=status)  # type: ignore[arg-type]
        out.append(dict(resource))  # type: ignore[arg-type]
    return out


def _patient(value: Any, patient_id: str, status: int = 400) -> dict[str, Any]:
    if not isinstance(value, Mapping) or value.get("resourceType") != "Patient":
        got = value.get("resourceType") if isinstance(value, Mapping) else type(value).__name__
        raise _bad(f"prefetch 'patient' must be a Patient resource, got {got}", "prefetch.patient")
    if value.get("id") not in (None, patient_id):
        raise _bad(
            f"prefetch 'patient' is Patient/{value.get('id')}, not the context's "
            f"Patient/{patient_id}",
            "prefetch.patient",
        )
    check_resource(value, "prefetch.patient", status=status)
    return {**value, "id": patient_id}


def _fill(template: str, patient_id: str) -> str:
    return template.replace("{{context.patientId}}", patient_id)


def _from_server(
    base: str, authorization: Mapping[str, Any] | None, keys: list[str], patient_id: str
) -> dict[str, Any]:
    headers = {"Accept": "application/fhir+json"}
    if authorization:
        headers["Authorization"] = f"Bearer {authorization['access_token']}"
    out: dict[str, Any] = {}
    try:
        with httpx.Client(timeout=_TIMEOUT, headers=headers, follow_redirects=False) as client:
            for key in keys:
                url: str | None = f"{base.rstrip('/')}/{_fill(PREFETCH[key], patient_id)}"
                if key == "patient":
                    r = client.get(str(url))
                    if r.status_code in (404, 410):
                        raise _bad(
                            f"Patient/{patient_id} is unknown to {base}", "context.patientId"
                        )
                    _ok(r, base)
                    out[key] = r.json()
                    continue
                entries: list[Any] = []
                for _ in range(_MAX_PAGES):
                    r = client.get(str(url))
                    _ok(r, base)
                    page = r.json()
                    entries.extend(page.get("entry") or ())
                    url = next(
                        (link.get("url") for link in page.get("link") or ()
                         if link.get("relation") == "next"),
                        None,
                    )  # fmt: skip
                    if url is None:
                        break
                else:
                    raise _precondition(f"{key}: more than {_MAX_PAGES} pages at {base}")
                out[key] = {"resourceType": "Bundle", "entry": entries}
    except httpx.HTTPError as exc:
        raise _precondition(f"cannot fetch required data from fhirServer {base}: {exc}") from exc
    except ValueError as exc:
        raise _precondition(f"fhirServer {base} answered something that is not JSON") from exc
    return out


def _ok(response: httpx.Response, base: str) -> None:
    if response.status_code != 200:
        raise _precondition(
            f"fhirServer {base} answered {response.status_code} for {response.request.url.path}"
        )


def _from_store(access: AccessContext, keys: list[str], patient_id: str) -> dict[str, Any]:
    types = [PREFETCH_TYPES[k] for k in keys if k != "patient"]
    try:
        resources = list(access.everything(patient_id, [*types, "Medication"]))
        if "patient" in keys:
            patient = access.read("Patient", patient_id)
    except NotFoundError as exc:
        raise _bad(f"unknown patient: {exc}", "context.patientId") from exc
    out: dict[str, Any] = {}
    for key in keys:
        if key == "patient":
            out[key] = patient
        else:
            wanted = {PREFETCH_TYPES[key]} | ({"Medication"} if key == "medications" else set())
            out[key] = {
                "resourceType": "Bundle",
                "entry": [{"resource": r} for r in resources if r.get("resourceType") in wanted],
            }
    return out


_URL = re.compile(r"^https?://[^\s]+$")


def gather(body: Mapping[str, Any], patient_id: str, access: AccessContext) -> list[dict[str, Any]]:
    """The patient's resources for this call (Patient first)."""
    prefetch = body.get("prefetch")
    if prefetch is not None and not isinstance(prefetch, Mapping):
        raise _bad("prefetch must be a JSON object", "prefetch")
    prefetch = prefetch or {}
    server = body.get("fhirServer")
    if server is not None and (not isinstance(server, str) or not _URL.match(server)):
        raise _bad("fhirServer must be an http(s) URL", "fhirServer")
    auth = body.get("fhirAuthorization")
    if auth is not None and (
        not isinstance(auth, Mapping)
        or not isinstance(auth.get("access_token"), str)
        or str(auth.get("token_type", "")).lower() != "bearer"
    ):
        raise _bad(
            "fhirAuthorization must hold access_token and token_type Bearer", "fhirAuthorization"
        )
    missing = [k for k in PREFETCH if k not in prefetch]
    given = {k: v for k, v in prefetch.items() if k in PREFETCH}
    if given.get("patient", True) is None:
        raise _bad("prefetch 'patient' is null: the patient is unknown to the client", "prefetch")
    out = [_patient(given["patient"], patient_id)] if "patient" in given else []
    for key in PREFETCH:
        if key != "patient" and given.get(key) is not None:
            out.extend(_bundle_resources(given[key], key))
    if not missing:
        return out
    if server:
        # Data from the client's server that is malformed cannot be used: 412, not the caller's
        # request error.
        fetched = _from_server(server, auth, missing, patient_id)
        if "patient" in fetched:
            out.insert(0, _patient(fetched["patient"], patient_id, status=412))
        for key in missing:
            if key != "patient" and fetched.get(key) is not None:
                out.extend(_bundle_resources(fetched[key], key, status=412))
        return out
    # pmed's own store holds only validated resources (ingest validates).
    stored = _from_store(access, missing, patient_id)
    if "patient" in stored:
        out.insert(0, stored["patient"])
    for key in missing:
        if key != "patient":
            out.extend(e["resource"] for e in stored[key]["entry"])
    return out
