"""Search parameters the store indexes, and how their values are pulled out of a resource.

A parameter is (kind, element paths); the paths are FHIR element names, dotted for nesting, with
`[x]` for choice elements (FHIR R4 SearchParameter definitions, simplified to plain paths). The
patient compartment follows FHIR's CompartmentDefinition "patient" for the types pmed serves.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from pmed.record.references import split_reference

__all__ = [
    "COMMON_PARAMS",
    "SEARCH_PARAMS",
    "date_range",
    "extract_index_rows",
    "normalize_string",
    "patient_reference_fields",
]

Kind = str  # "token" | "string" | "date" | "reference" | "number"

_subject = {"subject": ("reference", ["subject"]), "encounter": ("reference", ["encounter"])}
_patient = {"patient": ("reference", ["patient"])}

SEARCH_PARAMS: dict[str, dict[str, tuple[Kind, list[str]]]] = {
    "Patient": {
        "name": ("string", ["name"]),
        "family": ("string", ["name.family"]),
        "given": ("string", ["name.given"]),
        "birthdate": ("date", ["birthDate"]),
        "gender": ("token", ["gender"]),
        "identifier": ("token", ["identifier"]),
        "address-postalcode": ("string", ["address.postalCode"]),
        "general-practitioner": ("reference", ["generalPractitioner"]),
    },
    "Observation": {
        **_subject,
        "code": ("token", ["code"]),
        "category": ("token", ["category"]),
        "date": ("date", ["effective[x]"]),
        "status": ("token", ["status"]),
        "value-quantity": ("number", ["valueQuantity"]),
        "component-code": ("token", ["component.code"]),
    },
    "Condition": {
        **_subject,
        "code": ("token", ["code"]),
        "category": ("token", ["category"]),
        "clinical-status": ("token", ["clinicalStatus"]),
        "onset-date": ("date", ["onset[x]"]),
        "recorded-date": ("date", ["recordedDate"]),
    },
    "MedicationRequest": {
        **_subject,
        "code": ("token", ["medicationCodeableConcept"]),
        "status": ("token", ["status"]),
        "intent": ("token", ["intent"]),
        "authoredon": ("date", ["authoredOn"]),
        "requester": ("reference", ["requester"]),
    },
    "MedicationStatement": {
        **_subject,
        "code": ("token", ["medicationCodeableConcept"]),
        "status": ("token", ["status"]),
        "effective": ("date", ["effective[x]"]),
    },
    "Encounter": {
        **_subject,
        "date": ("date", ["period"]),
        "type": ("token", ["type"]),
        "class": ("token", ["class"]),
        "status": ("token", ["status"]),
        "participant": ("reference", ["participant.individual"]),
        "service-provider": ("reference", ["serviceProvider"]),
    },
    "Procedure": {**_subject, "code": ("token", ["code"]), "date": ("date", ["performed[x]"])},
    "Immunization": {
        **_patient,
        "vaccine-code": ("token", ["vaccineCode"]),
        "date": ("date", ["occurrence[x]"]),
    },
    "DiagnosticReport": {
        **_subject,
        "code": ("token", ["code"]),
        "category": ("token", ["category"]),
        "date": ("date", ["effective[x]"]),
        "result": ("reference", ["result"]),
    },
    "AllergyIntolerance": {
        **_patient,
        "code": ("token", ["code"]),
        "clinical-status": ("token", ["clinicalStatus"]),
    },
    "CarePlan": {
        **_subject,
        "category": ("token", ["category"]),
        "status": ("token", ["status"]),
        "date": ("date", ["period"]),
    },
    "CareTeam": {**_subject, "status": ("token", ["status"])},
    "Goal": {**_subject, "lifecycle-status": ("token", ["lifecycleStatus"])},
    "Claim": {**_patient, "created": ("date", ["created"]), "use": ("token", ["use"])},
    "ExplanationOfBenefit": {**_patient, "created": ("date", ["created"])},
    "Coverage": {
        "beneficiary": ("reference", ["beneficiary"]),
        "patient": ("reference", ["beneficiary"]),
    },
    "ImagingStudy": {**_subject, "started": ("date", ["started"])},
    "Device": {**_patient, "type": ("token", ["type"])},
    "DocumentReference": {**_subject, "type": ("token", ["type"]), "date": ("date", ["date"])},
    "Consent": {
        **_patient,
        "status": ("token", ["status"]),
        "category": ("token", ["category"]),
        "scope": ("token", ["scope"]),
    },
    "RiskAssessment": {**_subject, "date": ("date", ["occurrence[x]"])},
    "DetectedIssue": {**_patient, "code": ("token", ["code"])},
    "Provenance": {"target": ("reference", ["target"])},
    "Organization": {"name": ("string", ["name"]), "identifier": ("token", ["identifier"])},
    "Practitioner": {
        "name": ("string", ["name"]),
        "family": ("string", ["name.family"]),
        "identifier": ("token", ["identifier"]),
    },
    "PractitionerRole": {"practitioner": ("reference", ["practitioner"])},
    "Location": {"name": ("string", ["name"]), "identifier": ("token", ["identifier"])},
    "Medication": {"code": ("token", ["code"])},
    "MedicationAdministration": {
        **_subject,
        "code": ("token", ["medicationCodeableConcept"]),
        "effective-time": ("date", ["effective[x]"]),
    },
    "ServiceRequest": {**_subject, "code": ("token", ["code"])},
    "Specimen": {**_subject},
    "FamilyMemberHistory": {**_patient},
}

COMMON_PARAMS = {"_id", "_lastUpdated"}

# Element that places a resource in the patient compartment (FHIR R4 CompartmentDefinition
# "patient"); the first element holding a Patient reference wins.
_COMPARTMENT_FIELDS: dict[str, tuple[str, ...]] = {
    "Immunization": ("patient",),
    "AllergyIntolerance": ("patient",),
    "Claim": ("patient",),
    "ExplanationOfBenefit": ("patient",),
    "Coverage": ("beneficiary", "subscriber"),
    "Device": ("patient",),
    "Consent": ("patient",),
    "DetectedIssue": ("patient",),
    "Provenance": ("target",),
    "FamilyMemberHistory": ("patient",),
    "MolecularSequence": ("patient",),
    "NutritionOrder": ("patient",),
    "EpisodeOfCare": ("patient",),
    "Account": ("subject",),
    "AuditEvent": ("entity.what",),
}
_DEFAULT_FIELDS = ("subject", "patient")


def patient_reference_fields(resource_type: str) -> tuple[str, ...]:
    return _COMPARTMENT_FIELDS.get(resource_type, _DEFAULT_FIELDS)


def normalize_string(value: str) -> str:
    """FHIR string search is case- and accent-insensitive: fold both away."""
    decomposed = unicodedata.normalize("NFKD", value)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold().strip()


_FAR_PAST = "0001-01-01T00:00:00.000000"
_FAR_FUTURE = "9999-12-31T23:59:59.999999"
_FMT = "%Y-%m-%dT%H:%M:%S.%f"


@lru_cache(maxsize=65536)  # records repeat timestamps (an encounter's time on all its results)
def date_range(value: str) -> tuple[str, str]:
    """The UTC instant range a FHIR date/dateTime/instant covers, at its own precision.

    `2020` covers the whole year, `2020-05-01` the whole day, `2020-05-01T10:00:00+02:00` one
    second. Raises ValueError for anything that is not a FHIR date.
    """
    v = value.strip()
    if len(v) == 10 and v[4] == "-" and v[7] == "-" and v[:4].isdigit():
        datetime(int(v[:4]), int(v[5:7]), int(v[8:10]))  # validates the calendar date
        return v + "T00:00:00.000000", v + "T23:59:59.999999"
    if len(v) == 4:
        y = int(v)
        return datetime(y, 1, 1).strftime(_FMT), (datetime(y + 1, 1, 1) - _US).strftime(_FMT)
    if len(v) == 7:
        y, m = int(v[:4]), int(v[5:7])
        start = datetime(y, m, 1)
        end = datetime(y + (m == 12), m % 12 + 1, 1)
        return start.strftime(_FMT), (end - _US).strftime(_FMT)
    if len(v) == 10:
        start = datetime.strptime(v, "%Y-%m-%d")
        return start.strftime(_FMT), (start + timedelta(days=1) - _US).strftime(_FMT)
    parsed = datetime.fromisoformat(v.replace("Z", "+00:00"))
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    if parsed.microsecond or "." in v:
        return parsed.strftime(_FMT), parsed.strftime(_FMT)
    if len(v) <= 16 or v.count(":") == 1:  # to the minute
        return parsed.strftime(_FMT), (parsed + timedelta(minutes=1) - _US).strftime(_FMT)
    return parsed.strftime(_FMT), (parsed + timedelta(seconds=1) - _US).strftime(_FMT)


_US = timedelta(microseconds=1)


def _values(node: Any, path: list[str]) -> Iterator[Any]:
    """Every value at `path` below `node`, flattening arrays; `x[x]` matches any choice type."""
    if not path:
        if isinstance(node, list):
            yield from node
        elif node is not None:
            yield node
        return
    if isinstance(node, list):
        for item in node:
            yield from _values(item, path)
        return
    if not isinstance(node, dict):
        return
    head, rest = path[0], path[1:]
    if head.endswith("[x]"):
        stem = head[:-3]
        for key, child in node.items():
            if key.startswith(stem) and key[len(stem) : len(stem) + 1].isupper():
                yield from _values(child, rest)
    elif head in node:
        yield from _values(node[head], rest)


def _tokens(value: Any) -> Iterator[tuple[str | None, str]]:
    if isinstance(value, str):
        yield None, value
    elif isinstance(value, bool):
        yield None, "true" if value else "false"
    elif isinstance(value, dict):
        if "coding" in value:
            for coding in value["coding"] or []:
                if isinstance(coding, dict) and coding.get("code") is not None:
                    yield coding.get("system"), str(coding["code"])
        elif "value" in value and "code" not in value:  # Identifier
            yield value.get("system"), str(value["value"])
        elif value.get("code") is not None:  # Coding
            yield value.get("system"), str(value["code"])


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key in ("text", "family", "given", "prefix", "suffix", "line", "city", "state",
                    "postalCode", "country"):  # fmt: skip
            item = value.get(key)
            if isinstance(item, str):
                yield item
            elif isinstance(item, list):
                yield from (s for s in item if isinstance(s, str))


def _dates(value: Any) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield date_range(value)
    elif isinstance(value, dict) and ("start" in value or "end" in value):  # Period
        low = date_range(value["start"])[0] if value.get("start") else _FAR_PAST
        high = date_range(value["end"])[1] if value.get("end") else _FAR_FUTURE
        yield low, high


_Plan = list[tuple[str, str, list[list[str]]]]
_PLANS: dict[str, _Plan] = {}


def _plan(resource_type: str) -> _Plan:
    """(name, kind, split paths) per parameter of a type, computed once."""
    plan = _PLANS.get(resource_type)
    if plan is None:
        plan = [
            (name, kind, [p.split(".") for p in paths])
            for name, (kind, paths) in SEARCH_PARAMS.get(resource_type, {}).items()
        ]
        _PLANS[resource_type] = plan
    return plan


def extract_index_rows(
    resource: dict[str, Any], resolve: Callable[[str], str] | None = None
) -> dict[str, list[tuple[Any, ...]]]:
    """Index rows per kind for one resource: `(param, value...)` tuples, ready for insertion.

    `resolve` maps a reference string (e.g. `urn:uuid:…`) to its stored `Type/id` form.
    Values that do not parse (a malformed date) are skipped here; validation rejects them earlier.
    """
    rows: dict[str, list[tuple[Any, ...]]] = {
        "token": [], "string": [], "date": [], "reference": [], "number": []
    }  # fmt: skip
    for name, kind, paths in _plan(resource.get("resourceType", "")):
        for path in paths:
            if len(path) == 1 and not path[0].endswith("[x]"):
                node = resource.get(path[0])
                if node is None:
                    continue
                values: Iterable[Any] = node if isinstance(node, list) else (node,)
            else:
                values = _values(resource, path)
            for value in values:
                if kind == "token":
                    rows["token"].extend((name, s, c) for s, c in _tokens(value))
                elif kind == "reference":
                    if isinstance(value, dict) and isinstance(value.get("reference"), str):
                        ref = resolve(value["reference"]) if resolve else value["reference"]
                        parts = split_reference(ref)
                        target = parts if parts else (None, ref[:255])
                        rows["reference"].append((name, *target))
                elif kind == "date":
                    try:
                        rows["date"].extend((name, lo, hi) for lo, hi in _dates(value))
                    except ValueError:
                        continue
                elif kind == "string":
                    rows["string"].extend(
                        (name, normalize_string(s)[:255]) for s in _strings(value) if s.strip()
                    )
                elif kind == "number" and isinstance(value, dict):
                    number = value.get("value")
                    if isinstance(number, int | float) and not isinstance(number, bool):
                        unit = value.get("code") or value.get("unit")
                        rows["number"].append((name, float(number), unit))
    return rows
