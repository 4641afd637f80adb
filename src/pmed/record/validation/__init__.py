"""Fast structural validation of FHIR R4 (4.0.1) JSON resources.

Checks what the R4 structure definitions say about shape, from the shipped knowledge file
`fhir/r4_structure` (built by `tools/build_fhir_structure.py`): a known `resourceType`; no
unknown elements; required elements (min cardinality 1; a primitive's `_name` extension counts);
arrays where the cardinality is `*` and single values where it is `1`, never empty; JSON types
and the spec's regexes for the primitives (date, dateTime, instant, time, id, code, uri, oid,
uuid, base64Binary, …; integers in 32-bit range, positiveInt > 0, unsignedInt ≥ 0); data types
and BackboneElements recursively; exactly one type of a choice element (`value[x]`) and only
an allowed one; primitive extensions (`_birthDate`, `_given` lined up with `given`); the shape of
`Reference.reference`; and every resource-typed element (`contained`, `Bundle.entry.resource`,
`Parameters.parameter.resource`) as a resource in its own right.

Not checked: invariants (FHIRPath constraints), terminology bindings, profiles, whether a
reference resolves.

    issues = validate(resource)            # [] when valid
    validate_or_raise(resource, file="bundle.json", entry=3)   # InputError for the first issue

Issue paths are FHIRPath-like: `Observation.component[1].valueQuantity.value`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from pmed.errors import InputError
from pmed.record.validation import _check
from pmed.record.validation._tables import tables

__all__ = ["ValidationIssue", "known_resource_types", "validate", "validate_or_raise"]


@dataclass(frozen=True, slots=True)
class ValidationIssue:
    """One structural problem: where (`Observation.status`) and what."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


_ready = False


def _init() -> None:
    global _ready
    _check.init(tables())
    _ready = True


@lru_cache(maxsize=1)
def known_resource_types() -> frozenset[str]:
    """The 146 resource types of FHIR R4."""
    return frozenset(tables().resources)


def validate(resource: Any) -> list[ValidationIssue]:
    """Every structural issue of one resource (with everything it contains); [] when valid."""
    if not _ready:
        _init()
    errs = _check.check_resource(resource, None)
    if errs is None:
        return []
    rtype = resource.get("resourceType") if type(resource) is dict else None
    root = rtype if type(rtype) is str and rtype in _check._resources else ""
    return [ValidationIssue(_join(root, rel), message) for rel, message in errs]


def validate_or_raise(resource: Any, *, file: str | None = None, entry: int | None = None) -> None:
    """Raise `InputError` (field = the element path) for the first issue, if any."""
    issues = validate(resource)
    if not issues:
        return
    first = issues[0]
    more = len(issues) - 1
    reason = first.message + (f" (and {more} more issue{'s' * (more > 1)})" if more else "")
    raise InputError(reason, file=file, entry=entry, field=first.path or None)


def _join(root: str, rel: str) -> str:
    if not root:
        return rel
    return f"{root}.{rel}" if rel else root
