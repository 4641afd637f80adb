"""FHIR Bulk Data `$export` (Bulk Data Access IG v2, https://hl7.org/fhir/uv/bulkdata/export.html).

Kick-off (`GET /$export`, `GET /Patient/$export`, with `Prefer: respond-async`) answers 202 with a
`Content-Location` status URL; polling it answers 202 with `X-Progress` while the job runs and
200 with the manifest once done; `DELETE` on it cancels the job and removes its files. A
background thread streams the store into one NDJSON file per resource type under
`PMED_HOME/exports/<job>/`, so memory stays flat however large the export. Patient-level export
walks the patients in chunks and writes each chunk's compartments.
"""

from __future__ import annotations

import logging
import re
import shutil
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import orjson
from fastapi import APIRouter, Depends, Request
from starlette.responses import FileResponse, Response

from pmed.api.access import AccessContext, get_access
from pmed.api.content import check_acceptable
from pmed.api.outcomes import outcome_response
from pmed.api.paging import base_url
from pmed.api.problem import ApiProblem
from pmed.api.search_routes import parse_since, parse_types
from pmed.errors import InputError, NotFoundError

__all__ = ["ExportJob", "ExportManager", "router"]

log = logging.getLogger("pmed.api.export")
router = APIRouter(tags=["FHIR Bulk Data export"])

NDJSON = "application/fhir+ndjson"
_OUTPUT_FORMATS = {NDJSON, "application/ndjson", "ndjson"}
_KICKOFF_PARAMS = {"_outputFormat", "_type", "_since", "_format"}
_JOB_ID = re.compile(r"^[0-9a-f]{32}$")
_FILE = re.compile(r"^[A-Z][A-Za-z]+\.ndjson$")
_PATIENT_CHUNK = 500


@dataclass
class ExportJob:
    id: str
    request: str
    level: str  # "system" | "patient"
    types: list[str] | None
    since: str | None
    base: str
    owner: str | None
    transaction_time: str
    requires_token: bool = False  # the files are served only with a bearer token (auth on)
    status: str = "running"  # running | complete | failed | cancelled
    written: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    error: str | None = None
    cancel: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None

    def manifest(self) -> dict[str, Any]:
        return {
            "transactionTime": self.transaction_time,
            "request": self.request,
            "requiresAccessToken": self.requires_token,
            "output": [
                {"type": t, "url": f"{self.base}/$export-files/{self.id}/{t}.ndjson", "count": n}
                for t, n in sorted(self.counts.items())
            ],
            "error": [],
        }


class ExportManager:
    """The export jobs of one app; files under `root`, one directory per job."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._jobs: dict[str, ExportJob] = {}
        self._lock = threading.Lock()

    def start(self, access: AccessContext, job: ExportJob) -> ExportJob:
        (self.root / job.id).mkdir(parents=True, exist_ok=True)
        with self._lock:
            self._jobs[job.id] = job
        job.thread = threading.Thread(
            target=self._run, args=(job, access), name=f"pmed-export-{job.id[:8]}", daemon=True
        )
        job.thread.start()
        return job

    def get(self, job_id: str) -> ExportJob | None:
        if not _JOB_ID.match(job_id):
            return None
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None:  # finished before this process started: serve its manifest from disk
            manifest = self.root / job_id / "manifest.json"
            if manifest.exists():
                data = orjson.loads(manifest.read_bytes())
                job = ExportJob(
                    id=job_id,
                    request=data["request"],
                    level="system",
                    types=None,
                    since=None,
                    base=data["_base"],
                    owner=data.get("_owner"),
                    transaction_time=data["transactionTime"],
                    status="complete",
                    requires_token=bool(data.get("requiresAccessToken", False)),
                    counts={o["type"]: o["count"] for o in data["output"]},
                )
        return job

    def cancel(self, job: ExportJob) -> None:
        job.cancel.set()
        if job.thread is not None:
            job.thread.join(timeout=30)
        job.status = "cancelled"
        with self._lock:
            self._jobs.pop(job.id, None)
        shutil.rmtree(self.root / job.id, ignore_errors=True)

    def shutdown(self) -> None:
        with self._lock:
            jobs = list(self._jobs.values())
        for job in jobs:
            job.cancel.set()
        for job in jobs:
            if job.thread is not None:
                job.thread.join(timeout=30)

    # ---- the worker -----------------------------------------------------------------------
    def _resources(self, job: ExportJob, access: AccessContext) -> Iterator[dict[str, Any]]:
        if job.level == "system":
            types: list[str | None] = list(job.types) if job.types else [None]
            for rtype in types:
                yield from access.export(rtype, job.since)
            return
        only = job.types[0] if job.types and len(job.types) == 1 else None
        chunk: list[str] = []
        for patient in access.export("Patient"):
            chunk.append(patient["id"])
            if len(chunk) == _PATIENT_CHUNK:
                yield from access.export(only, job.since, patient_ids=chunk)
                chunk = []
            if job.cancel.is_set():
                return
        if chunk:
            yield from access.export(only, job.since, patient_ids=chunk)

    def _run(self, job: ExportJob, access: AccessContext) -> None:
        directory = self.root / job.id
        handles: dict[str, IO[bytes]] = {}
        wanted = set(job.types) if job.types else None
        try:
            for resource in self._resources(job, access):
                if job.cancel.is_set():
                    return
                rtype = resource["resourceType"]
                if wanted is not None and rtype not in wanted:
                    continue
                handle = handles.get(rtype)
                if handle is None:
                    handle = handles[rtype] = (directory / f"{rtype}.ndjson").open("wb")
                handle.write(orjson.dumps(resource) + b"\n")
                job.counts[rtype] = job.counts.get(rtype, 0) + 1
                job.written += 1
            for handle in handles.values():
                handle.close()
            manifest = {**job.manifest(), "_owner": job.owner, "_base": job.base}
            tmp = directory / "manifest.json.tmp"
            tmp.write_bytes(orjson.dumps(manifest))
            tmp.replace(directory / "manifest.json")
            job.status = "complete"
        except Exception as exc:  # a failed export is reported on the status URL, not lost
            log.exception("export %s failed", job.id)
            job.error = f"{type(exc).__name__}: {exc}"
            job.status = "failed"
        finally:
            for handle in handles.values():
                handle.close()


def _manager(request: Request) -> ExportManager:
    manager: ExportManager = request.app.state.exports
    return manager


def _kick_off(level: str, request: Request, access: AccessContext) -> Response:
    check_acceptable(request)
    if "respond-async" not in request.headers.get("prefer", "").lower():
        raise ApiProblem(400, "$export is asynchronous: send the header Prefer: respond-async")
    params = list(request.query_params.multi_items())
    unknown = sorted({k for k, _ in params if k not in _KICKOFF_PARAMS})
    if unknown:
        raise InputError(f"$export does not support {', '.join(unknown)}", field=unknown[0])
    values = dict(params)
    fmt = values.get("_outputFormat")
    if fmt is not None and fmt not in _OUTPUT_FORMATS:
        raise InputError(
            f"_outputFormat {fmt!r} is not supported; use {NDJSON}", field="_outputFormat"
        )
    base = base_url(request)
    job = ExportJob(
        id=uuid.uuid4().hex,
        request=str(request.url),
        level=level,
        types=parse_types(values.get("_type")),
        since=parse_since(values.get("_since")),
        base=base,
        owner=access.principal,
        requires_token=access.requires_token,
        transaction_time=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
    )
    _manager(request).start(access, job)
    status_url = f"{base}/$export-status/{job.id}"
    return Response(status_code=202, headers={"Content-Location": status_url})


@router.get(
    "/$export", status_code=202, summary="system-level $export kick-off", response_model=None
)
def export_system(request: Request, access: AccessContext = Depends(get_access)) -> Response:
    return _kick_off("system", request, access)


@router.get("/Patient/$export", status_code=202, summary="Patient-level $export kick-off",
            response_model=None)  # fmt: skip
def export_patients(request: Request, access: AccessContext = Depends(get_access)) -> Response:
    return _kick_off("patient", request, access)


def _job(job_id: str, request: Request, access: AccessContext) -> ExportJob:
    job = _manager(request).get(job_id)
    if job is None or job.status == "cancelled" or not access.may_see_export(job.owner):
        raise NotFoundError(f"no export job {job_id}")
    return job


@router.get("/$export-status/{job_id}", summary="$export status / manifest", response_model=None)
def export_status(
    job_id: str, request: Request, access: AccessContext = Depends(get_access)
) -> Response:
    job = _job(job_id, request, access)
    if job.status == "running":
        return Response(
            status_code=202,
            headers={"X-Progress": f"{job.written} resources written", "Retry-After": "1"},
        )
    if job.status == "failed":
        return outcome_response(500, f"export {job_id} failed: {job.error}", code="exception")
    return Response(orjson.dumps(job.manifest()), media_type="application/json")


@router.delete("/$export-status/{job_id}", status_code=202, summary="cancel an $export",
               response_model=None)  # fmt: skip
def export_cancel(
    job_id: str, request: Request, access: AccessContext = Depends(get_access)
) -> Response:
    job = _job(job_id, request, access)
    _manager(request).cancel(job)
    return Response(status_code=202)


@router.get("/$export-files/{job_id}/{filename}", summary="an $export NDJSON file",
            response_model=None)  # fmt: skip
def export_file(
    job_id: str, filename: str, request: Request, access: AccessContext = Depends(get_access)
) -> Response:
    job = _job(job_id, request, access)
    path = _manager(request).root / job.id / filename
    if job.status != "complete" or not _FILE.match(filename) or not path.is_file():
        raise NotFoundError(f"export {job_id} has no file {filename}")
    return FileResponse(path, media_type=NDJSON)
