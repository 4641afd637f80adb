"""FHIR search (GET and POST `_search`) and `Patient/{id}/$everything`.

Search parameters go to the store's search (`pmed.record.search`), result controls are read
here: `_count`/`_getpagesoffset` paging, `_sort`, `_summary=count|false`, `_elements`, `_total`.
Unknown parameters are a 400 unless the client sends `Prefer: handling=lenient`, in which case
they are ignored and reported in an OperationOutcome entry (FHIR R4 search.html#errors).
`$everything` streams the patient compartment into a searchset Bundle, entry by entry, so its
memory stays flat; with `_count` it pages like a search.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any
from urllib.parse import parse_qsl, urlencode

import orjson
from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response, StreamingResponse

from pmed.api.access import AccessContext, get_access
from pmed.api.content import check_acceptable, fhir_response, response_media_type
from pmed.api.outcomes import operation_outcome
from pmed.api.paging import Paging, base_url, full_url, page_links, parse_paging, searchset
from pmed.api.problem import ApiProblem
from pmed.api.resource_types import R4_RESOURCE_TYPES, check_type
from pmed.errors import InputError
from pmed.record.search import CONTROL_PARAMS, supported_params
from pmed.record.search_params import date_range

__all__ = ["parse_since", "parse_types", "router"]

router = APIRouter(tags=["FHIR search"])

_SUMMARY_VALUES = {"count", "false"}
_TOTAL_VALUES = {"none", "estimate", "accurate"}
_STREAM_CHUNK = 256 * 1024
_EVERYTHING_PARAMS = {"_count", "_getpagesoffset", "_type", "_since", "_format", "_pretty"}


def parse_types(raw: str | None, field: str = "_type") -> list[str] | None:
    """A comma-separated `_type` list, each a known resource type; None when absent."""
    if raw is None:
        return None
    types = [t.strip() for t in raw.split(",") if t.strip()]
    unknown = [t for t in types if t not in R4_RESOURCE_TYPES]
    if unknown or not types:
        raise InputError(f"unknown resource type(s) in {field}: {', '.join(unknown)}", field=field)
    return types


def parse_since(raw: str | None, field: str = "_since") -> str | None:
    """A FHIR instant as the store's UTC timestamp text (`YYYY-MM-DDTHH:MM:SS.ffffff`)."""
    if raw is None:
        return None
    try:
        return date_range(raw)[0]
    except ValueError as exc:
        raise InputError(f"{raw!r} is not a FHIR instant", field=field) from exc


def _elements(resource: dict[str, Any], wanted: set[str]) -> dict[str, Any]:
    kept = {k: v for k, v in resource.items() if k in wanted or k in ("resourceType", "id")}
    meta = dict(resource.get("meta") or {})
    subsetted = {"system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue",
                 "code": "SUBSETTED"}  # fmt: skip
    meta["tag"] = [*meta.get("tag", []), subsetted]
    kept["meta"] = meta
    return kept


def _search(
    rtype: str, params: list[tuple[str, str]], request: Request, access: AccessContext
) -> Response:
    check_type(rtype)
    check_acceptable(request)
    paging = parse_paging(params)
    controls = dict(params)  # for a repeated result parameter the last one wins
    summary = controls.get("_summary")
    if summary is not None and summary not in _SUMMARY_VALUES:
        raise InputError(
            f"_summary={summary} is not supported (use count or false)", field="_summary"
        )
    total_mode = controls.get("_total")
    if total_mode is not None and total_mode not in _TOTAL_VALUES:
        raise InputError(
            f"_total={total_mode} is not one of none, estimate, accurate", field="_total"
        )
    outcome = None
    criteria = [(k, v) for k, v in params if k.partition(":")[0] not in CONTROL_PARAMS]
    if "handling=lenient" in request.headers.get("prefer", "").replace(" ", "").lower():
        known = set(supported_params(rtype))
        ignored = sorted({k for k, _ in criteria if k.partition(":")[0] not in known})
        if ignored:
            criteria = [(k, v) for k, v in criteria if k.partition(":")[0] in known]
            outcome = operation_outcome(
                f"ignored unknown search parameter(s): {', '.join(ignored)}",
                code="not-supported",
                severity="warning",
            )
    summary_count = summary == "count"
    page = access.search(
        rtype,
        criteria,
        count=0 if summary_count else paging.count,
        offset=paging.offset,
        sort=controls.get("_sort"),
        summary_count=summary_count,
        total=total_mode != "none",
    )
    resources = page.resources
    if "_elements" in controls:
        wanted = {e.strip() for e in controls["_elements"].split(",") if e.strip()}
        resources = [_elements(r, wanted) for r in resources]
    base = base_url(request)
    shown = Paging(count=0, offset=paging.offset) if summary_count else paging
    # without a count (`_total=none`), a full page suggests there is a next one
    more = None if page.total is not None else len(resources) == shown.count > 0
    links = page_links(f"{base}/{rtype}", params, shown, total=page.total, has_more=more)
    bundle = searchset(base, resources, total=page.total, links=links, outcome=outcome)
    return fhir_response(bundle, request=request)


@router.get("/{rtype}", summary="search (GET)", response_model=None)
def search_get(
    rtype: str, request: Request, access: AccessContext = Depends(get_access)
) -> Response:
    return _search(rtype, list(request.query_params.multi_items()), request, access)


@router.post(
    "/{rtype}/_search",
    summary="search (POST, form-encoded parameters)",
    response_model=None,
    openapi_extra={
        "requestBody": {
            "content": {"application/x-www-form-urlencoded": {"schema": {"type": "object"}}}
        }
    },
)
async def search_post(
    rtype: str, request: Request, access: AccessContext = Depends(get_access)
) -> Response:
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    raw = await request.body()
    if raw.strip() and media != "application/x-www-form-urlencoded":
        raise ApiProblem(
            415, f"_search takes application/x-www-form-urlencoded parameters, not {media}"
        )
    try:
        form = parse_qsl(raw.decode(), keep_blank_values=True)
    except UnicodeDecodeError as exc:
        raise InputError("the _search body is not UTF-8 text") from exc
    params = list(request.query_params.multi_items()) + form
    return await run_in_threadpool(_search, rtype, params, request, access)


@router.get(
    "/Patient/{rid}/$everything",
    summary="Patient $everything: the patient's compartment",
    tags=["FHIR operations"],
    response_model=None,
)
def everything(rid: str, request: Request, access: AccessContext = Depends(get_access)) -> Response:
    check_acceptable(request)
    params = list(request.query_params.multi_items())
    unknown = sorted({k for k, _ in params if k not in _EVERYTHING_PARAMS})
    if unknown:
        raise InputError(
            f"$everything does not support {', '.join(unknown)}; it takes "
            f"{', '.join(sorted(_EVERYTHING_PARAMS))}",
            field=unknown[0],
        )
    values = dict(params)
    paged = "_count" in values
    paging = parse_paging(params) if paged else Paging(count=0, offset=0)
    types = parse_types(values.get("_type"))
    since = parse_since(values.get("_since"))
    resources = access.everything(rid, types)  # NotFound/Gone before anything is streamed
    base = base_url(request)
    chunks = _stream_everything(base, rid, params, resources, paged, paging, since)
    return StreamingResponse(chunks, media_type=response_media_type(request))


def _stream_everything(
    base: str,
    rid: str,
    params: Sequence[tuple[str, str]],
    resources: Iterator[dict[str, Any]],
    paged: bool,
    paging: Paging,
    since: str | None,
) -> Iterator[bytes]:
    buffer = [b'{"resourceType":"Bundle","type":"searchset"']
    size = 0
    matched = written = 0
    has_more = False
    for resource in resources:
        if since is not None and resource["meta"]["lastUpdated"].rstrip("Z") < since:
            continue
        matched += 1
        if matched <= paging.offset:
            continue
        if paged and written == paging.count:
            has_more = True
            break
        entry = {"fullUrl": full_url(base, resource), "resource": resource,
                 "search": {"mode": "match"}}  # fmt: skip
        chunk = orjson.dumps(entry)
        buffer.append(b"," if written else b',"entry":[')
        buffer.append(chunk)
        written += 1
        size += len(chunk)
        if size >= _STREAM_CHUNK:  # one write per ~256 KiB, not one thread hop per entry
            yield b"".join(buffer)
            buffer, size = [], 0
    if written:
        buffer.append(b"]")
    total = None if has_more else matched
    path = f"{base}/Patient/{rid}/$everything"
    if paged:
        links = page_links(path, params, paging, total=total, has_more=has_more)
    else:
        links = [
            {"relation": "self", "url": f"{path}?{urlencode(list(params))}" if params else path}
        ]
    tail: dict[str, Any] = {"link": links}
    if total is not None:
        tail["total"] = total
    buffer.append(b"," + orjson.dumps(tail)[1:])
    yield b"".join(buffer)
