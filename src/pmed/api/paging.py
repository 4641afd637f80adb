"""Bundles for search results and history: entries, `total`, and paging links.

Paging follows the offset convention of HAPI FHIR: `_count` is the page size and
`_getpagesoffset` the index of the page's first match; `self`, `first`, `next` and `previous`
links repeat the search with every other parameter unchanged (FHIR R4 http.html#paging).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from fastapi import Request

from pmed.errors import InputError

__all__ = [
    "DEFAULT_COUNT",
    "MAX_COUNT",
    "Paging",
    "base_url",
    "full_url",
    "page_links",
    "parse_paging",
    "searchset",
]

DEFAULT_COUNT = 50
MAX_COUNT = 1000


@dataclass(frozen=True)
class Paging:
    count: int
    offset: int


def _non_negative_int(name: str, raw: str) -> int:
    try:
        value = int(raw)
    except ValueError as exc:
        raise InputError(f"{name} must be a whole number, got {raw!r}", field=name) from exc
    if value < 0:
        raise InputError(f"{name} must not be negative, got {value}", field=name)
    return value


def parse_paging(params: Sequence[tuple[str, str]], default_count: int = DEFAULT_COUNT) -> Paging:
    """`_count` (clamped to MAX_COUNT) and `_getpagesoffset`; InputError (400) if malformed."""
    values = dict(params)
    count = default_count
    if "_count" in values:
        count = min(_non_negative_int("_count", values["_count"]), MAX_COUNT)
    offset = 0
    if "_getpagesoffset" in values:
        offset = _non_negative_int("_getpagesoffset", values["_getpagesoffset"])
    return Paging(count=count, offset=offset)


def base_url(request: Request) -> str:
    """The server's base URL as the client reached it (proxies: run uvicorn with proxy headers)."""
    return str(request.base_url).rstrip("/")


def full_url(base: str, resource: dict[str, Any]) -> str:
    return f"{base}/{resource['resourceType']}/{resource['id']}"


def _link(path_url: str, params: Sequence[tuple[str, str]], offset: int, count: int) -> str:
    kept = [(k, v) for k, v in params if k not in ("_getpagesoffset", "_count")]
    kept += [("_count", str(count))]
    if offset:
        kept.append(("_getpagesoffset", str(offset)))
    return f"{path_url}?{urlencode(kept)}"


def page_links(
    path_url: str,
    params: Sequence[tuple[str, str]],
    paging: Paging,
    *,
    total: int | None,
    has_more: bool | None = None,
) -> list[dict[str, str]]:
    """`self`, `first`, and where they exist `previous`, `next` and (total known) `last`."""
    count, offset = paging.count, paging.offset
    links = [{"relation": "self", "url": _link(path_url, params, offset, count)}]
    if count <= 0:
        return links
    links.append({"relation": "first", "url": _link(path_url, params, 0, count)})
    if offset > 0:
        links.append(
            {"relation": "previous", "url": _link(path_url, params, max(0, offset - count), count)}
        )
    more = has_more if has_more is not None else total is not None and offset + count < total
    if more:
        links.append({"relation": "next", "url": _link(path_url, params, offset + count, count)})
    if total is not None and total > 0:
        last = ((total - 1) // count) * count
        links.append({"relation": "last", "url": _link(path_url, params, last, count)})
    return links


def searchset(
    base: str,
    resources: Sequence[dict[str, Any]],
    *,
    total: int | None,
    links: list[dict[str, str]],
    outcome: dict[str, Any] | None = None,
) -> dict[str, Any]:
    bundle: dict[str, Any] = {"resourceType": "Bundle", "type": "searchset"}
    if total is not None:
        bundle["total"] = total
    bundle["link"] = links
    entries = [
        {"fullUrl": full_url(base, r), "resource": r, "search": {"mode": "match"}}
        for r in resources
    ]
    if outcome is not None:
        entries.append({"resource": outcome, "search": {"mode": "outcome"}})
    if entries:
        bundle["entry"] = entries
    return bundle
