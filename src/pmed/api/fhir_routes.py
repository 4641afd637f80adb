"""FHIR instance interactions: create, read, vread, update, delete, instance history.

FHIR R4 http.html: create answers 201 with `Location` (…/_history/n) and `ETag: W/"n"`; update is
create-or-update at the client's id and honours `If-Match` (412 when the version differs);
conditional create with `If-None-Exist`; conditional read with `If-None-Match` (304);
`Prefer: return=minimal|representation|OperationOutcome`. Every interaction goes through the
request's `AccessContext`.
"""

from __future__ import annotations

import re
from datetime import datetime
from email.utils import format_datetime
from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from pmed.api.access import AccessContext, get_access
from pmed.api.content import check_acceptable, fhir_response, read_json_body
from pmed.api.outcomes import operation_outcome
from pmed.api.paging import Paging, base_url, full_url, page_links, parse_paging
from pmed.api.problem import ApiProblem
from pmed.api.resource_types import check_type
from pmed.errors import ConflictError, InputError
from pmed.record.validation import validate_or_raise

__all__ = ["etag", "router", "validate_resource"]

router = APIRouter(tags=["FHIR instance interactions"])

_ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")
_BODY_DOC: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"application/fhir+json": {"schema": {"type": "object"}}},
    }
}


def etag(resource: dict[str, Any]) -> str:
    return f'W/"{resource["meta"]["versionId"]}"'


def _version_headers(base: str, resource: dict[str, Any]) -> dict[str, str]:
    meta = resource["meta"]
    headers = {"ETag": etag(resource)}
    try:
        when = datetime.fromisoformat(meta["lastUpdated"].replace("Z", "+00:00"))
        headers["Last-Modified"] = format_datetime(when, usegmt=True)
    except (KeyError, ValueError):
        pass
    headers["Content-Location"] = f"{full_url(base, resource)}/_history/{meta['versionId']}"
    return headers


def _check_id(rid: str) -> str:
    if not _ID.match(rid):
        raise InputError(f"{rid!r} is not a valid FHIR id (1-64 of A-Z a-z 0-9 - .)", field="id")
    return rid


def _version_of(header: str) -> str:
    """`W/"3"`, `"3"` or `3` → `3`."""
    value = header.strip()
    if value.startswith("W/"):
        value = value[2:]
    return value.strip('"')


def validate_resource(resource: dict[str, Any], entry: int | None = None) -> None:
    """Structural validation (`pmed.record.validation`): InputError (400) naming the path."""
    validate_or_raise(resource, entry=entry)


def _written(request: Request, resource: dict[str, Any], status: int, location: bool) -> Response:
    base = base_url(request)
    headers = _version_headers(base, resource)
    if location:
        headers["Location"] = headers["Content-Location"]
    prefer = request.headers.get("prefer", "").replace(" ", "").lower()
    if "return=minimal" in prefer:
        return Response(status_code=status, headers=headers)
    if "return=operationoutcome" in prefer:
        outcome = operation_outcome(
            f"{resource['resourceType']}/{resource['id']} stored as version "
            f"{resource['meta']['versionId']}",
            code="informational",
            severity="information",
        )
        return fhir_response(outcome, status_code=status, headers=headers, request=request)
    return fhir_response(resource, status_code=status, headers=headers, request=request)


def _body_for(rtype: str, body: dict[str, Any]) -> dict[str, Any]:
    if body["resourceType"] != rtype:
        raise InputError(
            f"the body is a {body['resourceType']}, but the URL is for {rtype}",
            field="resourceType",
        )
    return body


@router.post(
    "/{rtype}", status_code=201, summary="create", openapi_extra=_BODY_DOC, response_model=None
)
async def create(
    rtype: str, request: Request, access: AccessContext = Depends(get_access)
) -> Response:
    check_type(rtype)
    check_acceptable(request)
    body = _body_for(rtype, await read_json_body(request))
    condition = request.headers.get("if-none-exist")
    if condition:
        query = parse_qsl(condition.lstrip("?"), keep_blank_values=True)
        page = await run_in_threadpool(
            access.search, rtype, query, count=2, offset=0, sort=None, summary_count=False
        )
        matches = page.total if page.total is not None else len(page.resources)
        if matches == 1:
            return _written(request, page.resources[0], 200, location=True)
        if matches > 1:
            raise ApiProblem(412, f"If-None-Exist {condition} matches {matches} {rtype} resources")
    body = {k: v for k, v in body.items() if k != "id"}
    validate_resource(body)
    stored = await run_in_threadpool(access.create, body)
    return _written(request, stored, 201, location=True)


@router.get("/{rtype}/{rid}", summary="read", response_model=None)
def read(
    rtype: str, rid: str, request: Request, access: AccessContext = Depends(get_access)
) -> Response:
    check_type(rtype)
    check_acceptable(request)
    resource = access.read(rtype, rid)
    headers = _version_headers(base_url(request), resource)
    del headers["Content-Location"]
    wanted = request.headers.get("if-none-match")
    if wanted and _version_of(wanted) == resource["meta"]["versionId"]:
        return Response(status_code=304, headers=headers)
    return fhir_response(resource, headers=headers, request=request)


@router.put("/{rtype}/{rid}", summary="update (or create at this id)", openapi_extra=_BODY_DOC,
            response_model=None)  # fmt: skip
async def update(
    rtype: str, rid: str, request: Request, access: AccessContext = Depends(get_access)
) -> Response:
    check_type(rtype)
    check_acceptable(request)
    _check_id(rid)
    body = _body_for(rtype, await read_json_body(request))
    if body.get("id") is None:
        raise InputError("an update must carry the resource's id in the body", field="id")
    if body["id"] != rid:
        raise InputError(f"the body's id {body['id']!r} differs from the URL's {rid!r}", field="id")
    validate_resource(body)
    if_match = request.headers.get("if-match")
    try:
        expected = _version_of(if_match) if if_match else None
        stored, created = await run_in_threadpool(access.update, body, if_match=expected)
    except ConflictError as exc:
        if if_match is None:
            raise
        raise ApiProblem(412, str(exc), code="conflict") from exc
    return _written(request, stored, 201 if created else 200, location=created)


@router.delete("/{rtype}/{rid}", status_code=204, summary="delete", response_model=None)
def delete(
    rtype: str, rid: str, request: Request, access: AccessContext = Depends(get_access)
) -> Response:
    check_type(rtype)
    access.delete(rtype, rid)
    return Response(status_code=204)


@router.get("/{rtype}/{rid}/_history", summary="instance history", response_model=None)
def history(
    rtype: str, rid: str, request: Request, access: AccessContext = Depends(get_access)
) -> Response:
    check_type(rtype)
    check_acceptable(request)
    params = list(request.query_params.multi_items())
    versions = access.history(rtype, rid)
    paging = parse_paging(params, default_count=len(versions) or 1)
    base = base_url(request)
    page = versions[paging.offset : paging.offset + paging.count]
    bundle = {
        "resourceType": "Bundle",
        "type": "history",
        "total": len(versions),
        "link": page_links(
            f"{base}/{rtype}/{rid}/_history",
            params,
            Paging(count=paging.count, offset=paging.offset),
            total=len(versions),
        ),
        "entry": [_history_entry(base, v) for v in page],
    }
    return fhir_response(bundle, request=request)


def _history_entry(base: str, version: dict[str, Any]) -> dict[str, Any]:
    meta = version["meta"]
    url = f"{version['resourceType']}/{version['id']}"
    response = {"status": "200 OK", "etag": etag(version), "lastModified": meta["lastUpdated"]}
    if version.get("_deleted"):
        return {
            "fullUrl": f"{base}/{url}",
            "request": {"method": "DELETE", "url": url},
            "response": {**response, "status": "204 No Content"},
        }
    method = "POST" if meta["versionId"] == "1" else "PUT"
    return {
        "fullUrl": f"{base}/{url}",
        "resource": version,
        "request": {"method": method, "url": url if method == "PUT" else version["resourceType"]},
        "response": {**response, "status": "201 Created" if method == "POST" else "200 OK"},
    }


@router.get("/{rtype}/{rid}/_history/{vid}", summary="vread", response_model=None)
def vread(
    rtype: str, rid: str, vid: str, request: Request, access: AccessContext = Depends(get_access)
) -> Response:
    check_type(rtype)
    check_acceptable(request)
    resource = access.vread(rtype, rid, vid)
    headers = _version_headers(base_url(request), resource)
    del headers["Content-Location"]
    return fhir_response(resource, headers=headers, request=request)
