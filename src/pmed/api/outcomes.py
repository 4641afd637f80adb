"""FHIR OperationOutcome responses and the exception handlers that produce them.

Every error the API answers is an OperationOutcome (FHIR R4 operationoutcome.html) with the HTTP
status of the error: `PmedError`s carry their own `http_status` and `issue_code`; protocol
problems (unsupported media type, If-Match mismatch, …) are raised as `ApiProblem`; FastAPI's
own errors (unknown route, wrong method, bad query types) are translated too. The catch-all
answers 500 only for true bugs, and logs them.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from pmed.api.content import fhir_response
from pmed.api.problem import STATUS_ISSUE_CODES, ApiProblem
from pmed.errors import InputError, PmedError

__all__ = ["ApiProblem", "install_exception_handlers", "operation_outcome", "outcome_response"]

log = logging.getLogger("pmed.api")


def operation_outcome(
    message: str,
    *,
    code: str = "processing",
    severity: str = "error",
    expression: str | None = None,
) -> dict[str, Any]:
    issue: dict[str, Any] = {"severity": severity, "code": code, "diagnostics": message}
    if expression:
        issue["expression"] = [expression]
    return {"resourceType": "OperationOutcome", "issue": [issue]}


def outcome_response(
    status: int,
    message: str,
    *,
    code: str | None = None,
    expression: str | None = None,
    headers: dict[str, str] | None = None,
    request: Request | None = None,
) -> Response:
    body = operation_outcome(
        message, code=code or STATUS_ISSUE_CODES.get(status, "exception"), expression=expression
    )
    return fhir_response(body, status_code=status, headers=headers, request=request)


async def _pmed_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, PmedError)
    expression = exc.field if isinstance(exc, InputError) else None
    if exc.http_status >= 500:
        log.error("store or server failure on %s %s: %s", request.method, request.url.path, exc)
    return outcome_response(
        exc.http_status, str(exc), code=exc.issue_code, expression=expression, request=request
    )


async def _api_problem(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiProblem)
    return outcome_response(
        exc.status,
        exc.message,
        code=exc.code,
        expression=exc.expression,
        headers=exc.headers,
        request=request,
    )


async def _http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    message = str(exc.detail)
    if exc.status_code == 404 and message == "Not Found":
        message = f"no such endpoint: {request.method} {request.url.path}"
    elif exc.status_code == 405:
        message = f"{request.method} is not supported on {request.url.path}"
    return outcome_response(
        exc.status_code, message, headers=dict(exc.headers or {}), request=request
    )


async def _request_validation(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    first = errors[0] if errors else {}
    where = ".".join(str(p) for p in first.get("loc", ()) if p not in ("query", "header", "path"))
    message = f"{where or 'request'}: {first.get('msg', 'invalid request')}"
    return outcome_response(400, message, expression=where or None, request=request)


async def _unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return outcome_response(
        500,
        f"internal error ({type(exc).__name__}); this is a bug in pmed, please report it",
        code="exception",
        request=request,
    )


def install_exception_handlers(app: FastAPI) -> None:
    app.add_exception_handler(PmedError, _pmed_error)
    app.add_exception_handler(ApiProblem, _api_problem)
    app.add_exception_handler(StarletteHTTPException, _http_exception)
    app.add_exception_handler(RequestValidationError, _request_validation)
    app.add_exception_handler(Exception, _unexpected)
