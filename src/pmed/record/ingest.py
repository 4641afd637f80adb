"""`pmed ingest`: FHIR JSON, Bundles, NDJSON and directories into the store, one file at a time.

Each file is one database transaction — it is stored whole or not at all — and every resource is
validated first (`pmed.record.validation`). Files up to 64 MB are parsed in one go (orjson);
larger ones are streamed (ijson for Bundles, line by line for NDJSON) so memory stays flat.
A file whose conditional references point at resources from a later file is retried after the
others. VCFs go to the pharmacogenomics engine when a patient is named.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from pmed.errors import InputError, PmedError
from pmed.record.store import PreparedResource, Store, WriteSummary, prepare_resource
from pmed.record.transaction import (
    BUNDLE_TYPES,
    Planner,
    UnresolvedReference,
    check_bundle_type,
    parse_entries,
    parse_entry,
    prepare_bundle,
    write_planned,
)

__all__ = ["FileResult", "IngestSummary", "ingest_file", "ingest_paths", "iter_input_files"]

STREAM_THRESHOLD = 64 * 1024 * 1024
MAX_LINE = 32 * 1024 * 1024  # one NDJSON resource
_CHUNK = 2000
_FHIR_SUFFIXES = (".json", ".ndjson", ".jsonl")
_VCF_SUFFIXES = (".vcf", ".vcf.gz", ".bcf")


@dataclass
class FileResult:
    path: str
    ok: bool
    resources: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    error: str | None = None
    by_type: dict[str, int] = field(default_factory=dict)


@dataclass
class IngestSummary:
    files: list[FileResult] = field(default_factory=list)
    totals: WriteSummary = field(default_factory=WriteSummary)

    @property
    def failed(self) -> list[FileResult]:
        return [f for f in self.files if not f.ok]

    def as_dict(self) -> dict[str, Any]:
        return {
            "files": len(self.files),
            "files_failed": len(self.failed),
            "resources": sum(f.resources for f in self.files if f.ok),
            "created": self.totals.created,
            "updated": self.totals.updated,
            "unchanged": self.totals.unchanged,
            "by_type": dict(sorted(self.totals.by_type.items())),
            "errors": [{"file": f.path, "error": f.error} for f in self.failed],
        }


def iter_input_files(paths: Iterable[Path]) -> Iterator[Path]:
    """The files to ingest: named files as given, directories walked in name order."""
    for path in paths:
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                if child.is_file() and child.name.lower().endswith(_FHIR_SUFFIXES + _VCF_SUFFIXES):
                    yield child
        elif path.exists():
            yield path
        else:
            raise InputError("no such file or directory", file=str(path))


Validator = Callable[[dict[str, Any], int], None]


def _validator(file: str) -> Validator:
    from pmed.record.validation import validate_or_raise

    def check(resource: dict[str, Any], index: int) -> None:
        validate_or_raise(resource, file=file, entry=index)

    return check


def _decode_error(exc: Exception, file: str) -> InputError:
    if isinstance(exc, UnicodeDecodeError):
        return InputError(f"not UTF-8 text (byte {exc.start}): FHIR JSON must be UTF-8", file=file)
    message = str(exc)
    line = getattr(exc, "lineno", None)
    return InputError(f"invalid JSON: {message}", file=file, line=line)


def _load_json(path: Path, file: str) -> Any:
    data = path.read_bytes()
    if not data.strip():
        raise InputError("file is empty", file=file)
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _decode_error(exc, file) from exc
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise _decode_error(exc, file) from exc


def _first_char(path: Path) -> bytes:
    with path.open("rb") as handle:
        while chunk := handle.read(4096):
            stripped = chunk.lstrip()
            if stripped:
                return stripped[:1]
    return b""


def ingest_file(
    store: Store, path: Path, *, patient: str | None = None, validate: bool = True
) -> FileResult:
    """Ingest one file in one transaction; raises `InputError` (nothing written) on bad input."""
    file = str(path)
    name = path.name.lower()
    if name.endswith(_VCF_SUFFIXES):
        return _ingest_vcf(store, path, patient)
    if path.stat().st_size == 0:
        raise InputError("file is empty", file=file)
    check = _validator(file) if validate else None
    if name.endswith((".ndjson", ".jsonl")):
        summary = _ingest_ndjson(store, path, check)
    elif path.stat().st_size > STREAM_THRESHOLD:
        summary = _ingest_large_json(store, path, check)
    else:
        summary = _ingest_json(store, path, check)
    return _result(file, summary)


def _result(file: str, summary: WriteSummary) -> FileResult:
    total = summary.created + summary.updated + summary.unchanged
    return FileResult(
        file,
        True,
        total,
        summary.created,
        summary.updated,
        summary.unchanged,
        by_type=summary.by_type,
    )


def _ingest_vcf(store: Store, path: Path, patient: str | None) -> FileResult:
    if not patient:
        raise InputError(
            "a VCF needs --patient ID to know whose record it belongs to", file=str(path)
        )
    from pmed.record.sources.vcf import vcf_observations

    observations = vcf_observations(path, patient)
    return _result(str(path), _write_file(store, ([prepare_resource(o) for o in observations], [])))


PreparedFile = tuple[list[PreparedResource], list[tuple[str, str]]]


def _prepare_json(store: Store, path: Path, check: Validator | None) -> PreparedFile:
    """Parse, plan, validate and serialise one JSON file: everything but the write."""
    file = str(path)
    document = _load_json(path, file)
    if not isinstance(document, dict) or not isinstance(document.get("resourceType"), str):
        raise InputError(
            "expected a FHIR resource or Bundle (a JSON object with resourceType)", file=file
        )
    if document["resourceType"] == "Bundle" and document.get("type") in BUNDLE_TYPES:
        if check is not None:
            _check_bundle_shell(document, file)
        return prepare_bundle(store, document, file=file, validate=check)
    if document["resourceType"] == "Bundle":
        check_bundle_type(document.get("type"), file)
    return [_prepare_single(document, file, check)], []


def _write_file(store: Store, planned: PreparedFile) -> WriteSummary:
    with store.transaction() as conn:
        return write_planned(store, conn, *planned)[0]


def _ingest_json(store: Store, path: Path, check: Validator | None) -> WriteSummary:
    return _write_file(store, _prepare_json(store, path, check))


def _prepare_single(
    resource: dict[str, Any], file: str, check: Validator | None
) -> PreparedResource:
    """One resource (or a document/message Bundle) stored as it is, references untouched."""
    if not resource.get("id"):
        single = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": resource}]}
        resource = {**resource, "id": parse_entries(single, file)[1][0].derived_id()}
    if check is not None:
        try:
            check(resource, 0)
        except InputError as exc:
            raise InputError(exc.reason, file=exc.file, field=exc.field) from exc
    return prepare_resource(resource)


def _check_bundle_shell(bundle: dict[str, Any], file: str) -> None:
    """The Bundle's own elements, without its entries (each entry is validated on its own)."""
    from pmed.record.validation import validate_or_raise

    shell = {k: v for k, v in bundle.items() if k != "entry"}
    validate_or_raise(shell, file=file)


def _ingest_ndjson(store: Store, path: Path, check: Validator | None) -> WriteSummary:
    """Bulk-data NDJSON: one resource per line, streamed, all lines in one transaction."""
    file = str(path)
    total = WriteSummary()
    seen_any = False
    with store.transaction() as conn, path.open("rb") as handle:
        batch = []
        for number, line in enumerate(iter(lambda: handle.readline(MAX_LINE + 1), b""), start=1):
            if len(line) > MAX_LINE:
                limit = f"{MAX_LINE // 2**20} MB"
                raise InputError(f"line is longer than {limit}", file=file, line=number)
            if not line.strip():
                continue
            seen_any = True
            try:
                resource = orjson.loads(line)
            except orjson.JSONDecodeError as exc:
                error = _decode_error(exc, file)
                raise InputError(error.reason, file=file, line=number) from exc
            if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
                raise InputError(
                    "each line must be one FHIR resource (object with resourceType)",
                    file=file,
                    line=number,
                )
            if check is not None:
                try:
                    check(resource, number)
                except InputError as exc:
                    raise InputError(exc.reason, file=file, line=number, field=exc.field) from exc
            try:
                batch.append(prepare_resource(resource))
            except InputError as exc:
                raise exc.located(file=file, line=number) from exc
            if len(batch) >= _CHUNK:
                total.add(store.write_prepared(conn, batch))
                batch = []
        if batch:
            total.add(store.write_prepared(conn, batch))
    if not seen_any:
        raise InputError("file is empty", file=file)
    return total


def _ingest_large_json(store: Store, path: Path, check: Validator | None) -> WriteSummary:
    """A Bundle too big to parse whole: two streamed passes (plan ids, then write in chunks)."""
    import ijson

    file = str(path)
    if _first_char(path) != b"{":
        raise InputError("expected a FHIR resource or Bundle (a JSON object)", file=file)
    try:
        with path.open("rb") as handle:
            head = {}
            for prefix, event, value in ijson.parse(handle):
                if prefix in ("resourceType", "type") and event == "string":
                    head[prefix] = value
                if len(head) == 2 or prefix.startswith("entry"):
                    break
    except (ijson.JSONError, UnicodeDecodeError) as exc:
        raise _decode_error(exc, file) from exc
    if head.get("resourceType") != "Bundle" or head.get("type") not in BUNDLE_TYPES:
        raise InputError(
            "a single resource over 64 MB is not supported (Bundles of type transaction, batch or "
            "collection are streamed); use NDJSON for bulk data",
            file=file,
        )
    btype = check_bundle_type(head.get("type"), file)
    total = WriteSummary()
    with store.transaction() as conn:
        planner = Planner(store, conn, file)
        for chunk in _stream_entries(path, btype, file):  # pass 1: ids and fullUrl map
            planner.plan(chunk)
            for entry in chunk:
                entry.resource = None if entry.method != "DELETE" else entry.resource
        for chunk in _stream_entries(path, btype, file):  # pass 2: rewrite, validate, write
            planner.plan(chunk)
            summary, _deleted = planner.write(chunk, check)
            total.add(summary)
    return total


def _stream_entries(path: Path, btype: str, file: str) -> Iterator[list[Any]]:
    import ijson

    chunk: list[Any] = []
    try:
        with path.open("rb") as handle:
            for i, raw in enumerate(ijson.items(handle, "entry.item", use_float=True)):
                chunk.append(parse_entry(raw, i, btype, file))
                if len(chunk) >= _CHUNK:
                    yield chunk
                    chunk = []
    except (ijson.JSONError, UnicodeDecodeError) as exc:
        raise _decode_error(exc, file) from exc
    if chunk:
        yield chunk


def ingest_paths(
    store: Store,
    paths: Iterable[Path],
    *,
    patient: str | None = None,
    validate: bool = True,
    on_file_done: Callable[[Path, FileResult], None] | None = None,
) -> IngestSummary:
    """Ingest every file; a bad file is reported and skipped, the others still load."""
    summary = IngestSummary()
    deferred: list[Path] = []
    files = list(iter_input_files(paths))
    for attempt, queue in enumerate((files, deferred)):
        for path in list(queue):
            try:
                result = ingest_file(store, path, patient=patient, validate=validate)
            except UnresolvedReference as exc:
                if attempt == 0:
                    deferred.append(path)
                    continue
                result = FileResult(str(path), False, error=str(exc))
            except PmedError as exc:
                result = FileResult(str(path), False, error=str(exc))
            summary.files.append(result)
            if result.ok:
                summary.totals.add(
                    WriteSummary(result.created, result.updated, result.unchanged, result.by_type)
                )
            if on_file_done is not None:
                on_file_done(path, result)
    if summary.totals.written:
        store.optimize()  # fresh planner statistics after a bulk load
    return summary
