"""Reading FHIR reference strings: `Type/id`, absolute URLs, `_history` suffixes."""

from __future__ import annotations

import re

__all__ = ["split_reference"]

_LITERAL = re.compile(r"(?:^|/)([A-Z][A-Za-z]+)/([A-Za-z0-9\-.]{1,64})(?:/_history/[^/]+)?$")


def split_reference(reference: str) -> tuple[str, str] | None:
    """`("Patient", "123")` for `Patient/123`, `http://x/fhir/Patient/123/_history/2`; else None."""
    match = _LITERAL.search(reference)
    return (match.group(1), match.group(2)) if match else None
