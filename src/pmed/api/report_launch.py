"""The care report as a SMART on FHIR app: EHR launch (SMART App Launch 2.0,
https://hl7.org/fhir/smart-app-launch/app-launch.html), authorization code with PKCE.

1. The EHR opens `GET /report/launch?iss=<its FHIR base>&launch=<opaque>`. `iss` must be on the
   allow-list (`$PMED_SMART_CLIENTS`, default `$PMED_HOME/smart_clients.json`:
   `{"clients": [{"iss": "https://ehr.example.org/fhir", "client_id": "pmed-report"}]}`): an
   unlisted `iss` is refused (no fetching from, or redirecting to, arbitrary hosts).
2. pmed reads `{iss}/.well-known/smart-configuration` and redirects the browser to its
   `authorization_endpoint` with `response_type=code`, `client_id`, `redirect_uri`
   (`{PMED_BASE_URL}/report/callback`), `launch`, `scope=launch openid fhirUser patient/*.rs`,
   `aud=iss`, a random `state` and an S256 `code_challenge`.
3. `GET /report/callback?code=&state=`: the state is used once (10-minute life); the code is
   exchanged at the `token_endpoint` with the PKCE verifier; the token response's `patient`
   names the patient. The record is read from the EHR's FHIR server with that token (the same
   reads and checks as a CDS Hooks `fhirServer` fetch) and the report rendered: the patient
   version when the user is the patient (`fhirUser` Patient/…), else the clinician version.

These routes take no pmed token: the EHR's authorization server is the authority here. They are
browser navigation targets of the OAuth flow, not API operations, so they are left out of the
OpenAPI schema.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import threading
import time
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool

from pmed.api.cds_data import gather
from pmed.api.problem import ApiProblem
from pmed.care.plan import build_plan
from pmed.care.report import render_report
from pmed.record.patient import PatientRecord

__all__ = ["SCOPE", "router"]

router = APIRouter(tags=["Reports"])
SCOPE = "launch openid fhirUser patient/*.rs"
_STATE_TTL = 600.0
_TIMEOUT = httpx.Timeout(5.0, connect=2.0)


@dataclass(frozen=True)
class _Pending:
    iss: str
    client_id: str
    verifier: str
    token_endpoint: str
    redirect_uri: str
    expires: float


class _States:
    def __init__(self) -> None:
        self._items: dict[str, _Pending] = {}
        self._lock = threading.Lock()

    def add(self, state: str, pending: _Pending) -> None:
        with self._lock:
            now = time.monotonic()
            self._items = {k: v for k, v in self._items.items() if v.expires > now}
            self._items[state] = pending

    def take(self, state: str) -> _Pending | None:
        with self._lock:
            pending = self._items.pop(state, None)
        return pending if pending is not None and pending.expires > time.monotonic() else None


def _clients(request: Request) -> dict[str, str]:
    state = request.app.state
    clients = getattr(state, "smart_clients", None)
    if clients is None:
        path = Path(
            os.environ.get("PMED_SMART_CLIENTS") or state.settings.home / "smart_clients.json"
        )
        clients = {}
        if path.is_file():
            try:
                for c in json.loads(path.read_text(encoding="utf-8")).get("clients") or ():
                    clients[str(c["iss"]).rstrip("/")] = str(c["client_id"])
            except (OSError, ValueError, KeyError, TypeError, AttributeError):
                clients = {}
        state.smart_clients = clients
    return dict(clients)


def _states(request: Request) -> _States:
    state = request.app.state
    states = getattr(state, "smart_states", None)
    if states is None:
        states = state.smart_states = _States()
    return states


def _get_json(url: str, **kwargs: Any) -> Mapping[str, Any]:
    try:
        with httpx.Client(timeout=_TIMEOUT, follow_redirects=False) as client:
            r = client.request(kwargs.pop("method", "GET"), url, **kwargs)
            r.raise_for_status()
            body = r.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise ApiProblem(502, f"the EHR did not answer usably at {url}: {exc}") from exc
    if not isinstance(body, Mapping):
        raise ApiProblem(502, f"the EHR answered something other than a JSON object at {url}")
    return body


def _challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


@router.get(
    "/report/launch", summary="SMART EHR launch of the care report", include_in_schema=False
)
async def launch(
    request: Request, iss: str = Query(...), launch: str = Query(...)
) -> RedirectResponse:
    base = iss.rstrip("/")
    client_id = _clients(request).get(base)
    if client_id is None:
        raise ApiProblem(403, f"iss {iss!r} is not an EHR this pmed is registered with",
                         code="forbidden", expression="iss")  # fmt: skip
    config = await run_in_threadpool(_get_json, f"{base}/.well-known/smart-configuration")
    authorize = config.get("authorization_endpoint")
    token = config.get("token_endpoint")
    if not isinstance(authorize, str) or not isinstance(token, str):
        raise ApiProblem(502, f"{base}/.well-known/smart-configuration lacks the endpoints")
    settings = request.app.state.settings
    redirect_uri = settings.base_url.rstrip("/") + "/report/callback"
    verifier = secrets.token_urlsafe(48)
    state = secrets.token_urlsafe(24)
    _states(request).add(
        state,
        _Pending(base, client_id, verifier, token, redirect_uri, time.monotonic() + _STATE_TTL),
    )
    query = urllib.parse.urlencode(
        {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "launch": launch,
            "scope": SCOPE,
            "state": state,
            "aud": base,
            "code_challenge": _challenge(verifier),
            "code_challenge_method": "S256",
        }
    )
    return RedirectResponse(f"{authorize}?{query}", status_code=302)


def _report(pending: _Pending, code: str) -> str:
    token = _get_json(
        pending.token_endpoint,
        method="POST",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": pending.redirect_uri,
            "client_id": pending.client_id,
            "code_verifier": pending.verifier,
        },
    )
    access_token, patient = token.get("access_token"), token.get("patient")
    if not isinstance(access_token, str) or not isinstance(patient, str) or not patient:
        raise ApiProblem(502, "the EHR's token response lacks access_token or patient context")
    body = {"fhirAuthorization": {"access_token": access_token, "token_type": "Bearer"},
            "fhirServer": pending.iss}  # fmt: skip
    resources = gather(body, patient, None)  # type: ignore[arg-type]
    record = PatientRecord.from_resources(resources, patient_id=patient)
    user = str(token.get("fhirUser") or "")
    audience = "patient" if "Patient/" in user else "clinician"
    return render_report(build_plan(record), record, audience=audience)


@router.get(
    "/report/callback", summary="SMART redirect target: the report", include_in_schema=False
)
async def callback(
    request: Request, code: str = Query(...), state: str = Query(...)
) -> HTMLResponse:
    pending = _states(request).take(state)
    if pending is None:
        raise ApiProblem(400, "unknown or expired launch state", expression="state")
    html = await run_in_threadpool(_report, pending, code)
    return HTMLResponse(html)
