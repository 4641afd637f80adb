"""The one exception tree of pmed (see DESIGN.md, "Errors").

Every error a user can cause or meet is a `PmedError`. The CLI prints `str(error)` and exits with
`exit_code`; the API answers a FHIR OperationOutcome with `http_status`. Third-party exceptions are
translated into these at the boundary where they occur.
"""

from __future__ import annotations

__all__ = [
    "AccessDenied",
    "ConflictError",
    "GoneError",
    "InputError",
    "KnowledgeError",
    "NotFoundError",
    "PmedError",
    "StoreError",
]


class PmedError(Exception):
    """Base of every error pmed raises on purpose."""

    exit_code = 1
    http_status = 500
    issue_code = "exception"  # FHIR IssueType


class InputError(PmedError):
    """Bad user data. Says which file, line (or entry), field and why."""

    exit_code = 2
    http_status = 400
    issue_code = "invalid"

    def __init__(
        self,
        reason: str,
        *,
        file: str | None = None,
        line: int | None = None,
        entry: int | None = None,
        field: str | None = None,
    ) -> None:
        self.reason = reason
        self.file = file
        self.line = line
        self.entry = entry
        self.field = field
        super().__init__(self._message())

    def _message(self) -> str:
        where = []
        if self.file:
            where.append(str(self.file))
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.entry is not None:
            where.append(f"entry {self.entry}")
        if self.field:
            where.append(f"at {self.field}")
        return f"{', '.join(where)}: {self.reason}" if where else self.reason

    def located(self, **where: object) -> InputError:
        """The same error with more location filled in (outer layers know the file)."""
        merged = {k: getattr(self, k) for k in ("file", "line", "entry", "field")}
        merged.update({k: v for k, v in where.items() if merged.get(k) is None})
        return InputError(self.reason, **merged)


class NotFoundError(PmedError):
    """The thing asked for does not exist (or the caller may not know that it does)."""

    exit_code = 1
    http_status = 404
    issue_code = "not-found"


class GoneError(NotFoundError):
    """The resource existed and was deleted."""

    http_status = 410
    issue_code = "deleted"


class AccessDenied(PmedError):
    """Authentication, authorization or consent refused the request."""

    http_status = 403
    issue_code = "forbidden"


class KnowledgeError(PmedError):
    """Shipped clinical knowledge is missing, malformed or lacks provenance."""

    issue_code = "exception"


class StoreError(PmedError):
    """The store failed (connection, schema, constraint); the write was rolled back."""

    issue_code = "exception"


class ConflictError(StoreError):
    """A write lost a race or an `If-Match` version check."""

    http_status = 409
    issue_code = "conflict"
