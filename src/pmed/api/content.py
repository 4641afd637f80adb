"""FHIR content negotiation: JSON in, `application/fhir+json` out (FHIR R4 http.html#mime-type).

Responses are `application/fhir+json` unless the client asked for plain `application/json`
only. `_format=json` (or a JSON MIME type) is accepted; XML and other formats answer 406 (or 415
for request bodies). Request bodies are parsed here, so a malformed body is a 400 OperationOutcome.
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import Request
from starlette.responses import Response

from pmed.api.problem import ApiProblem

__all__ = [
    "FHIR_JSON",
    "check_acceptable",
    "fhir_response",
    "read_json_body",
    "response_media_type",
]

FHIR_JSON = "application/fhir+json"
_JSON_TYPES = {FHIR_JSON, "application/json", "application/json+fhir", "text/json"}
_ANY = {"*/*", "application/*"}
_FORMAT_ALIASES = {"json", *_JSON_TYPES}


def _media_types(header: str) -> list[str]:
    return [part.split(";", 1)[0].strip().lower() for part in header.split(",") if part.strip()]


def response_media_type(request: Request | None) -> str:
    """`application/json` when that is all the client accepts; `application/fhir+json` otherwise."""
    if request is None:
        return FHIR_JSON
    fmt = request.query_params.get("_format")
    if fmt == "application/json":
        return "application/json"
    accepted = _media_types(request.headers.get("accept", ""))
    if "application/json" in accepted and FHIR_JSON not in accepted:
        return "application/json"
    return FHIR_JSON


def check_acceptable(request: Request) -> None:
    """Raise 406 when neither `_format` nor `Accept` allow JSON."""
    fmt = request.query_params.get("_format")
    if fmt is not None and fmt.strip().lower() not in _FORMAT_ALIASES:
        raise ApiProblem(406, f"_format={fmt} is not supported; pmed speaks FHIR JSON only")
    accept = request.headers.get("accept")
    if fmt is None and accept:
        accepted = _media_types(accept)
        ok = _JSON_TYPES | _ANY | {"application/fhir+ndjson", "application/ndjson"}
        if accepted and not any(m in ok for m in accepted):
            raise ApiProblem(406, f"cannot answer in {accept}; pmed speaks FHIR JSON only")


def fhir_response(
    body: Any,
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    request: Request | None = None,
) -> Response:
    return Response(
        content=orjson.dumps(body),
        status_code=status_code,
        headers=headers,
        media_type=response_media_type(request),
    )


async def read_json_body(request: Request, *, what: str = "request body") -> dict[str, Any]:
    """The request body as a JSON object; 415 for non-JSON media types, 400 for malformed JSON."""
    ctype = request.headers.get("content-type", "")
    media = ctype.split(";", 1)[0].strip().lower()
    if media and media not in _JSON_TYPES:
        raise ApiProblem(415, f"{what} must be FHIR JSON ({FHIR_JSON}), not {media}")
    raw = await request.body()
    if not raw.strip():
        raise ApiProblem(400, f"{what} is empty; expected a FHIR JSON resource", code="required")
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ApiProblem(400, f"{what} is not valid JSON: {exc}", code="structure") from exc
    if not isinstance(body, dict):
        raise ApiProblem(400, f"{what} must be a JSON object (a FHIR resource)", code="structure")
    if not isinstance(body.get("resourceType"), str):
        raise ApiProblem(
            400, f"{what} has no resourceType", code="required", expression="resourceType"
        )
    return body
