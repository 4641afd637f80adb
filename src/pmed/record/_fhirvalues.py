"""Small readers of FHIR datatypes shared by the patient view: dates, codings, references."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, time
from typing import Any

from pmed.record.view_types import Coding

__all__ = [
    "as_moment",
    "codings",
    "effective",
    "parse_date",
    "parse_datetime",
    "reference_id",
    "status_code",
]


def parse_datetime(value: Any) -> datetime | None:
    """A FHIR date/dateTime/instant as an aware UTC datetime (partial dates → period start)."""
    if not isinstance(value, str) or not value:
        return None
    text = value.strip()
    try:
        if len(text) == 4:
            return datetime(int(text), 1, 1, tzinfo=UTC)
        if len(text) == 7:
            return datetime(int(text[:4]), int(text[5:7]), 1, tzinfo=UTC)
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), time(), tzinfo=UTC)
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def parse_date(value: Any) -> date | None:
    if isinstance(value, str) and len(value) >= 10:
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            return None
    moment = parse_datetime(value)
    return moment.date() if moment else None


def as_moment(when: date | datetime | None) -> datetime | None:
    """A cut-off as an aware datetime: a `date` means the end of that day (inclusive)."""
    if when is None:
        return None
    if isinstance(when, datetime):
        return when if when.tzinfo else when.replace(tzinfo=UTC)
    return datetime.combine(when, time.max, tzinfo=UTC)


def effective(resource: Mapping[str, Any]) -> datetime | None:
    """When an Observation (or similar) applies: effective[x], else issued."""
    for key in ("effectiveDateTime", "effectiveInstant"):
        if key in resource:
            return parse_datetime(resource[key])
    period = resource.get("effectivePeriod")
    if isinstance(period, Mapping):
        return parse_datetime(period.get("start") or period.get("end"))
    return parse_datetime(resource.get("issued"))


def codings(concept: Any) -> tuple[Coding, ...]:
    if not isinstance(concept, Mapping):
        return ()
    return tuple(
        Coding(c.get("system"), c.get("code"), c.get("display"))
        for c in concept.get("coding") or ()
        if isinstance(c, Mapping)
    )


def status_code(concept: Any) -> str | None:
    """The code of a status CodeableConcept (Condition.clinicalStatus), or a plain code."""
    if isinstance(concept, str):
        return concept
    for coding in codings(concept):
        if coding.code:
            return coding.code
    return None


def reference_id(reference: Any) -> str | None:
    """The target id of a Reference: `Patient/1` → `1`, `urn:uuid:abc` → `abc`, `#m1` → `#m1`."""
    if isinstance(reference, Mapping):
        reference = reference.get("reference")
    if not isinstance(reference, str) or not reference:
        return None
    if reference.startswith("urn:uuid:"):
        return reference[len("urn:uuid:") :]
    if reference.startswith("#"):
        return reference
    tail = reference.split("/_history/")[0].rstrip("/")
    return tail.rsplit("/", 1)[-1]
