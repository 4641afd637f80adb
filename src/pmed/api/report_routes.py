"""`GET /report/{id}`: the patient's care report as one self-contained HTML page.

`?audience=clinician` (default) or `patient`. The record is read through the request's
`AccessContext` (consent and audit apply), with a pmed token. `GET /report?patient=ID` is the same
page for a launcher that passes the patient as a parameter. A SMART EHR launch against the EHR's
own FHIR server is `pmed.api.report_launch` (`/report/launch`).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from pmed.api.access import AccessContext, get_access
from pmed.api.problem import ApiProblem
from pmed.care.plan import build_plan
from pmed.care.report import AUDIENCES, render_report
from pmed.record.patient import PatientRecord

__all__ = ["router"]

router = APIRouter(tags=["Reports"])


def _render(access: AccessContext, patient_id: str, audience: str) -> str:
    if audience not in AUDIENCES:
        raise ApiProblem(400, "audience must be clinician or patient", expression="audience")
    resources = list(access.everything(patient_id))
    record = PatientRecord.from_resources(resources, patient_id=patient_id)
    return render_report(build_plan(record), record, audience=audience)


@router.get("/report/{patient_id}", response_class=HTMLResponse, summary="Care report (HTML)")
async def report(
    patient_id: str,
    audience: str = Query("clinician"),
    access: AccessContext = Depends(get_access),
) -> HTMLResponse:
    html = await run_in_threadpool(_render, access, patient_id, audience)
    return HTMLResponse(html)


@router.get("/report", response_class=HTMLResponse, summary="Care report, SMART launch target")
async def report_launch(
    patient: str = Query(..., description="the launch context's patient id"),
    audience: str = Query("clinician"),
    access: AccessContext = Depends(get_access),
) -> HTMLResponse:
    html = await run_in_threadpool(_render, access, patient, audience)
    return HTMLResponse(html)
