"""`ApiProblem`: an HTTP-level problem with a request, answered as an OperationOutcome."""

from __future__ import annotations

__all__ = ["STATUS_ISSUE_CODES", "ApiProblem"]

STATUS_ISSUE_CODES = {
    400: "invalid",
    401: "login",
    403: "forbidden",
    404: "not-found",
    405: "not-supported",
    406: "not-supported",
    409: "conflict",
    410: "deleted",
    412: "conflict",
    415: "not-supported",
    422: "processing",
    501: "not-supported",
}


class ApiProblem(Exception):
    """An HTTP-level problem with the request itself (not a domain error from the layers below)."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str | None = None,
        expression: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code or STATUS_ISSUE_CODES.get(status, "processing")
        self.expression = expression
        self.headers = headers or {}
