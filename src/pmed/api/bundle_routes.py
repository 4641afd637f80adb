"""POST of a transaction or batch Bundle at the base URL (FHIR R4 http.html#transaction).

The Bundle is applied by `pmed.record.transaction.apply_bundle` through the request's
`AccessContext`: a transaction commits all entries or none (an error becomes one
OperationOutcome); the answer is the transaction-response / batch-response Bundle.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from pmed.api.access import AccessContext, get_access
from pmed.api.content import check_acceptable, fhir_response, read_json_body
from pmed.api.fhir_routes import validate_resource
from pmed.errors import InputError

__all__ = ["router"]

router = APIRouter(tags=["FHIR transaction and batch"])

_PROCESSABLE = {"transaction", "batch"}


@router.post(
    "/",
    summary="transaction or batch Bundle",
    response_model=None,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/fhir+json": {"schema": {"type": "object"}}},
        }
    },
)
async def transaction(request: Request, access: AccessContext = Depends(get_access)) -> Response:
    check_acceptable(request)
    bundle = await read_json_body(request, what="the Bundle")
    if bundle["resourceType"] != "Bundle":
        raise InputError(
            f"POST to the base URL takes a Bundle, not a {bundle['resourceType']}",
            field="resourceType",
        )
    if bundle.get("type") not in _PROCESSABLE:
        raise InputError(
            f"Bundle.type must be transaction or batch, not {bundle.get('type')!r}",
            field="Bundle.type",
        )
    response = await run_in_threadpool(access.transaction, bundle, validate_resource)
    return fhir_response(response, request=request)
