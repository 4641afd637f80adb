"""Applying a FHIR Bundle to the store: transaction, batch and collection semantics.

Rules (FHIR R4 http.html#transaction): entries are resolved in one pass — `urn:uuid:` fullUrls
become `Type/id`, conditional references (`Practitioner?identifier=sys|val`) are resolved against
the bundle and the store, `ifNoneExist` creates only when nothing matches, conditional PUT updates
the single match. pmed keeps a resource's own id (or the uuid of its `urn:uuid:` fullUrl) on
ingest instead of minting a new one, so loading the same bundle twice changes nothing.
The whole bundle is written in one database transaction: all entries, or none.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import orjson
from sqlalchemy.engine import Connection

from pmed.errors import InputError
from pmed.record.references import split_reference
from pmed.record.search_params import extract_index_rows
from pmed.record.store import PreparedResource, Store, WriteSummary, prepare_resource

__all__ = [
    "BUNDLE_TYPES",
    "STORED_WHOLE_BUNDLES",
    "BundleResult",
    "Planner",
    "UnresolvedReference",
    "apply_bundle",
    "apply_entries",
    "check_bundle_type",
    "parse_entries",
    "parse_entry",
    "prepare_bundle",
    "write_planned",
]

BUNDLE_TYPES = {"transaction", "batch", "collection"}
STORED_WHOLE_BUNDLES = {"document", "message"}  # kept as Bundle resources, as FHIR servers do
_READ_ONLY_BUNDLES = {"searchset", "history", "transaction-response", "batch-response"}
_REF = re.compile(rb'"reference":"((?:urn:(?:uuid|oid):|[A-Z][A-Za-z]+\?)[^"]*)"')
_ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")
_UUID_NS = uuid.UUID("1f5a3d8e-5c44-4c0b-9a07-6d7f1f2f6a10")  # pmed's namespace for derived ids


class UnresolvedReference(InputError):
    """A conditional reference matched nothing yet; a later file may supply the target."""


@dataclass
class BundleResult:
    summary: WriteSummary
    response: dict[str, Any]
    deleted: int = 0


@dataclass
class _Entry:
    index: int
    full_url: str | None
    resource: dict[str, Any] | None
    method: str
    url: str | None
    if_none_exist: str | None
    target: tuple[str, str] | None = None  # (type, id) once resolved
    skip: bool = False  # conditional create matched an existing resource

    def derived_id(self) -> str:
        return _derived_id(self)


def check_bundle_type(btype: Any, file: str | None) -> str:
    if btype in _READ_ONLY_BUNDLES:
        raise InputError(
            f"a {btype} Bundle is a query result, not data to ingest",
            file=file,
            field="Bundle.type",
        )
    if btype not in BUNDLE_TYPES | STORED_WHOLE_BUNDLES:
        known = ", ".join(sorted(BUNDLE_TYPES | STORED_WHOLE_BUNDLES))
        raise InputError(
            f"unknown Bundle.type {btype!r}; expected one of {known}",
            file=file,
            field="Bundle.type",
        )
    return str(btype)


def parse_entry(raw: Any, i: int, btype: str, file: str | None) -> _Entry:
    """One Bundle.entry, checked for shape, with its request method normalised."""
    where = f"Bundle.entry[{i}]"
    if not isinstance(raw, dict):
        raise InputError("entry must be an object", file=file, entry=i, field=where)
    request = raw.get("request") or {}
    resource = raw.get("resource")
    if resource is not None and not isinstance(resource, dict):
        raise InputError(
            "entry.resource must be an object", file=file, entry=i, field=f"{where}.resource"
        )
    method = "PUT" if btype == "collection" else str(request.get("method") or "POST").upper()
    if method not in ("POST", "PUT", "DELETE"):
        raise InputError(
            f"request.method {method} cannot be ingested (POST, PUT or DELETE)",
            file=file,
            entry=i,
            field=f"{where}.request.method",
        )
    if method != "DELETE" and resource is None:
        raise InputError("entry has no resource", file=file, entry=i, field=f"{where}.resource")
    if btype == "collection" and request.get("url") is None:
        request = {}
    return _Entry(
        index=i,
        full_url=raw.get("fullUrl"),
        resource=resource,
        method=method,
        url=request.get("url") if method != "PUT" or btype != "collection" else None,
        if_none_exist=request.get("ifNoneExist"),
    )


def parse_entries(bundle: dict[str, Any], file: str | None) -> tuple[str, list[_Entry]]:
    btype = check_bundle_type(bundle.get("type"), file)
    raw_entries = bundle.get("entry") or []
    if not isinstance(raw_entries, list):
        raise InputError("Bundle.entry must be an array", file=file, field="Bundle.entry")
    return btype, [parse_entry(raw, i, btype, file) for i, raw in enumerate(raw_entries)]


def _derived_id(entry: _Entry) -> str:
    res = entry.resource or {}
    rid = res.get("id")
    if isinstance(rid, str) and _ID.match(rid):
        return rid
    if entry.full_url and entry.full_url.startswith("urn:uuid:"):
        return entry.full_url[len("urn:uuid:") :]
    if entry.full_url and (parts := split_reference(entry.full_url)):
        return parts[1]
    return str(uuid.uuid5(_UUID_NS, orjson.dumps(res, option=orjson.OPT_SORT_KEYS).decode()))


class _Matcher:
    """Finds resources matching a FHIR query string, in the bundle first, then in the store."""

    def __init__(self, store: Store, conn: Connection | None, entries: list[_Entry]) -> None:
        self.store, self.conn, self.entries = store, conn, entries
        self._rows: dict[int, dict[str, list[tuple[Any, ...]]]] = {}

    def _bundle_rows(self, entry: _Entry) -> dict[str, list[tuple[Any, ...]]]:
        if entry.index not in self._rows:
            self._rows[entry.index] = extract_index_rows(entry.resource or {})
        return self._rows[entry.index]

    def match(self, rtype: str, query: str) -> list[tuple[str, str]]:
        params = parse_qsl(query, keep_blank_values=True)
        found = []
        for entry in self.entries:
            if (
                entry.resource
                and entry.resource.get("resourceType") == rtype
                and entry.method != "DELETE"
            ):
                rows = self._bundle_rows(entry)
                if all(self._entry_has(rows, entry, name, value) for name, value in params):
                    found.append((rtype, entry.target[1] if entry.target else _derived_id(entry)))
        if found:
            return found
        page = self.store.search(rtype, params, count=2)
        return [(rtype, res["id"]) for res in page.resources]

    @staticmethod
    def _entry_has(
        rows: dict[str, list[tuple[Any, ...]]], entry: _Entry, name: str, value: str
    ) -> bool:
        if name == "_id":
            return (entry.resource or {}).get("id") == value
        system, _, code = value.rpartition("|") if "|" in value else (None, "", value)
        for kind_rows in (rows["token"],):
            for row in kind_rows:
                if (
                    row[0] == name
                    and row[2] == code
                    and (system is None or row[1] == (system or None))
                ):
                    return True
        return any(row[0] == name and row[1] == value.casefold() for row in rows["string"])


class Planner:
    """Decides each entry's (type, id) and accumulates the fullUrl → `Type/id` map.

    Planning can run over a bundle in chunks (for streamed files); the map keeps only ids.
    """

    def __init__(self, store: Store, conn: Connection | None, file: str | None) -> None:
        self.store, self.conn, self.file = store, conn, file
        self.mapping: dict[str, str] = {}

    def plan(self, entries: list[_Entry]) -> None:
        matcher = _Matcher(self.store, self.conn, entries)
        for entry in entries:
            if entry.method == "DELETE":
                continue
            self._plan_one(entry, matcher)
            if entry.full_url and entry.target:
                self.mapping[entry.full_url] = f"{entry.target[0]}/{entry.target[1]}"

    def _plan_one(self, entry: _Entry, matcher: _Matcher) -> None:
        loc: dict[str, Any] = {"file": self.file, "entry": entry.index}
        res = entry.resource or {}
        rtype = res.get("resourceType")
        if not isinstance(rtype, str):
            raise InputError(
                "resource has no resourceType", field=f"Bundle.entry[{entry.index}].resource", **loc
            )
        if entry.method == "PUT" and entry.url and "?" in entry.url:
            matches = matcher.match(rtype, entry.url.split("?", 1)[1])
            if len(matches) > 1:
                raise InputError(f"conditional update {entry.url} matches several resources", **loc)
            entry.target = matches[0] if matches else (rtype, _derived_id(entry))
        elif entry.method == "PUT" and entry.url:
            parts = split_reference(entry.url)
            if parts is None or parts[0] != rtype:
                raise InputError(
                    f"request.url {entry.url!r} does not name a {rtype}",
                    field=f"Bundle.entry[{entry.index}].request.url",
                    **loc,
                )
            entry.target = parts
        else:
            entry.target = (rtype, _derived_id(entry))
            if entry.if_none_exist:
                existing = self.store.search(
                    rtype, parse_qsl(entry.if_none_exist), count=2
                ).resources
                if len(existing) > 1:
                    raise InputError(
                        f"ifNoneExist {entry.if_none_exist} matches several resources", **loc
                    )
                if existing:
                    entry.target, entry.skip = (rtype, existing[0]["id"]), True

    def prepare(
        self, entries: list[_Entry], validate: Callable[[dict[str, Any], int], None] | None
    ) -> tuple[list[PreparedResource], list[tuple[str, str]]]:
        """Rewrite references and validate planned entries: what to write and what to delete."""
        matcher = _Matcher(self.store, self.conn, entries)

        def lookup(ref: str) -> str | None:
            rtype, _, query = ref.partition("?")
            matches = matcher.match(rtype, query)
            if len(matches) > 1:
                raise InputError(
                    f"conditional reference {ref} matches several resources", file=self.file
                )
            return f"{matches[0][0]}/{matches[0][1]}" if matches else None

        prepared: list[PreparedResource] = []
        deletes: list[tuple[str, str]] = []
        for entry in entries:
            if entry.method == "DELETE":
                deletes.extend(_delete_targets(self.store, entry, self.file))
            elif not entry.skip:
                resource = entry.resource or {}
                if entry.target and resource.get("id") != entry.target[1]:
                    resource = {**resource, "id": entry.target[1]}
                if validate is not None:
                    validate(resource, entry.index)
                resolve, rewrite = _resolvers(
                    resource, entry.index, self.mapping, lookup, self.file
                )
                prepared.append(prepare_resource(resource, resolve, rewrite))
        return prepared, deletes

    def write(
        self, entries: list[_Entry], validate: Callable[[dict[str, Any], int], None] | None
    ) -> tuple[WriteSummary, int]:
        """Prepare and write planned entries in the planner's transaction: (summary, deleted)."""
        assert self.conn is not None
        prepared, deletes = self.prepare(entries, validate)
        return write_planned(self.store, self.conn, prepared, deletes)


def write_planned(
    store: Store,
    conn: Connection,
    prepared: list[PreparedResource],
    deletes: list[tuple[str, str]],
) -> tuple[WriteSummary, int]:
    """Write prepared resources and apply deletions inside the caller's transaction."""
    summary = store.write_prepared(conn, prepared)
    deleted = sum(store.delete_in(conn, rtype, rid) for rtype, rid in deletes)
    return summary, deleted


def prepare_bundle(
    store: Store,
    bundle: dict[str, Any],
    *,
    file: str | None = None,
    validate: Callable[[dict[str, Any], int], None] | None = None,
) -> tuple[list[PreparedResource], list[tuple[str, str]]]:
    """Everything `apply_entries` does short of writing: safe to run in another process."""
    _btype, entries = parse_entries(bundle, file)
    planner = Planner(store, None, file)
    planner.plan(entries)
    return planner.prepare(entries, validate)


def _path_of(node: Any, needle: str, path: str) -> str | None:
    if isinstance(node, dict):
        if node.get("reference") == needle:
            return f"{path}.reference"
        for key, value in node.items():
            found = _path_of(value, needle, f"{path}.{key}")
            if found:
                return found
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found = _path_of(value, needle, f"{path}[{i}]")
            if found:
                return found
    return None


def _resolvers(
    resource: dict[str, Any],
    entry_index: int,
    mapping: dict[str, str],
    lookup: Callable[[str], str | None],
    file: str | None,
) -> tuple[Callable[[str], str], Callable[[bytes], bytes]]:
    """Functions mapping this resource's references to stored `Type/id` form, as text and bytes."""

    def resolve(ref: str) -> str:
        target = mapping.get(ref)
        if target is not None:
            return target
        conditional = "?" in ref and not ref.startswith("urn:")
        if not conditional and not ref.startswith("urn:"):
            return ref
        target = lookup(ref) if conditional else None
        if target is not None:
            return target
        rtype = str(resource.get("resourceType", "resource"))
        path = _path_of(resource, ref, rtype) or rtype
        if conditional:
            raise UnresolvedReference(
                f"conditional reference {ref} matches no resource",
                file=file,
                entry=entry_index,
                field=path,
            )
        raise InputError(
            f"reference {ref} points to no entry of this bundle",
            file=file,
            entry=entry_index,
            field=path,
        )

    def rewrite(raw: bytes) -> bytes:
        if b'"reference":"urn:' not in raw and b"?" not in raw:
            return raw
        return _REF.sub(
            lambda m: b'"reference":"' + resolve(m.group(1).decode()).encode() + b'"', raw
        )

    return resolve, rewrite


def apply_entries(
    store: Store,
    conn: Connection,
    bundle: dict[str, Any],
    *,
    file: str | None = None,
    validate: Callable[[dict[str, Any], int], None] | None = None,
) -> BundleResult:
    """Apply one bundle inside the caller's transaction (the caller commits or rolls back)."""
    btype, entries = parse_entries(bundle, file)
    planner = Planner(store, conn, file)
    planner.plan(entries)
    summary, deleted = planner.write(entries, validate)
    return BundleResult(summary=summary, response=_response(btype, entries), deleted=deleted)


def _delete_targets(store: Store, entry: _Entry, file: str | None) -> Iterable[tuple[str, str]]:
    url = entry.url or ""
    if "?" in url:
        rtype, _, query = url.partition("?")
        return [
            (rtype, r["id"]) for r in store.search(rtype, parse_qsl(query), count=1000).resources
        ]
    parts = split_reference(url)
    if parts is None:
        raise InputError(
            f"DELETE needs request.url Type/id, got {url!r}", file=file, entry=entry.index
        )
    return [parts]


def _response(btype: str, entries: list[_Entry]) -> dict[str, Any]:
    items: list[dict[str, Any]] = []
    for entry in entries:
        if entry.method == "DELETE":
            items.append({"response": {"status": "204 No Content"}})
            continue
        assert entry.target is not None
        status = "200 OK" if entry.skip or entry.method == "PUT" else "201 Created"
        items.append(
            {
                "fullUrl": entry.full_url or f"{entry.target[0]}/{entry.target[1]}",
                "response": {"status": status, "location": f"{entry.target[0]}/{entry.target[1]}"},
            }
        )
    rtype = {"transaction": "transaction-response", "batch": "batch-response"}.get(
        btype, "batch-response"
    )
    return {"resourceType": "Bundle", "type": rtype, "entry": items}


def apply_bundle(
    store: Store,
    bundle: dict[str, Any],
    *,
    file: str | None = None,
    validate: Callable[[dict[str, Any], int], None] | None = None,
) -> BundleResult:
    """Apply a bundle in its own transaction: every entry is written, or nothing is."""
    with store.transaction() as conn:
        return apply_entries(store, conn, bundle, file=file, validate=validate)
