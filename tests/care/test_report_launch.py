"""The report as a SMART app: EHR launch → authorize (PKCE) → token → the EHR's FHIR data → HTML.
A fake EHR (authorization server + FHIR server in one FastAPI app) runs on loopback."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import urllib.parse
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Header, HTTPException, Request
from fastapi.responses import JSONResponse, RedirectResponse

from pmed.api.app import create_app
from pmed.api.server import free_port, serve_in_thread
from pmed.config import Settings
from tests.care import builders as b

CLIENT_ID = "pmed-report"


def fake_ehr(resources: list[dict[str, Any]]) -> tuple[FastAPI, dict[str, Any]]:
    app = FastAPI()
    seen: dict[str, Any] = {"codes": {}, "authorize": None}

    @app.get("/fhir/.well-known/smart-configuration")
    def config(request: Request) -> dict[str, str]:
        base = str(request.base_url).rstrip("/")
        return {"authorization_endpoint": f"{base}/authorize", "token_endpoint": f"{base}/token"}

    @app.get("/authorize")
    def authorize(request: Request) -> RedirectResponse:
        q = dict(request.query_params)
        seen["authorize"] = q
        assert q["response_type"] == "code" and q["client_id"] == CLIENT_ID
        assert q["code_challenge_method"] == "S256" and q["launch"] == "launch-123"
        code = secrets.token_hex(8)
        seen["codes"][code] = (q["code_challenge"], q["redirect_uri"])
        return RedirectResponse(f"{q['redirect_uri']}?code={code}&state={q['state']}", 302)

    @app.post("/token")
    async def token(request: Request) -> JSONResponse:
        form = dict(urllib.parse.parse_qsl((await request.body()).decode()))
        assert form["grant_type"] == "authorization_code" and form["client_id"] == CLIENT_ID
        code, code_verifier, redirect_uri = (
            form["code"],
            form["code_verifier"],
            form["redirect_uri"],
        )
        challenge, redirect = seen["codes"].pop(code, (None, None))
        digest = base64.urlsafe_b64encode(hashlib.sha256(code_verifier.encode()).digest())
        if challenge != digest.rstrip(b"=").decode() or redirect != redirect_uri:
            return JSONResponse({"error": "invalid_grant"}, status_code=400)
        return JSONResponse({"access_token": "ehr-token", "token_type": "Bearer",
                             "patient": "p9", "fhirUser": "Practitioner/dr-1",
                             "scope": "launch openid fhirUser patient/*.rs"})  # fmt: skip

    def authorized(value: str | None) -> None:
        if value != "Bearer ehr-token":
            raise HTTPException(401)

    @app.get("/fhir/Patient/{pid}")
    def read(pid: str, authorization: str | None = Header(None)) -> dict[str, Any]:
        authorized(authorization)
        return next(r for r in resources if r["resourceType"] == "Patient" and r["id"] == pid)

    @app.get("/fhir/{rtype}")
    def search(rtype: str, patient: str, authorization: str | None = Header(None)) -> dict:
        authorized(authorization)
        hits = [r for r in resources if r["resourceType"] == rtype]
        return {"resourceType": "Bundle", "type": "searchset",
                "entry": [{"resource": r} for r in hits]}  # fmt: skip

    return app, seen


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Iterator[dict[str, Any]]:
    ehr_app, seen = fake_ehr(b.cardiometabolic(pid="p9"))
    port = free_port()
    home = tmp_path_factory.mktemp("launch")
    settings = Settings(home=home, base_url=f"http://127.0.0.1:{port}")
    with serve_in_thread(ehr_app) as ehr_base:
        (home / "smart_clients.json").write_text(
            json.dumps({"clients": [{"iss": f"{ehr_base}/fhir", "client_id": CLIENT_ID}]})
        )
        with serve_in_thread(create_app(settings), port=port) as base:
            yield {"base": base, "iss": f"{ehr_base}/fhir", "seen": seen}


def test_ehr_launch_renders_the_report_from_the_ehr_data(world):
    with httpx.Client(follow_redirects=False, timeout=30) as client:
        r = client.get(f"{world['base']}/report/launch",
                       params={"iss": world["iss"], "launch": "launch-123"})  # fmt: skip
        assert r.status_code == 302
        target = urllib.parse.urlparse(r.headers["location"])
        q = dict(urllib.parse.parse_qsl(target.query))
        assert q["aud"] == world["iss"] and q["scope"] == "launch openid fhirUser patient/*.rs"
        assert q["redirect_uri"] == f"{world['base']}/report/callback"
        back = client.get(r.headers["location"])  # the browser at the EHR's authorize page
        assert back.status_code == 302 and back.headers["location"].startswith(world["base"])
        page = client.get(back.headers["location"])
        assert page.status_code == 200, page.text
        assert "Ana Rivera" in page.text and 'class="chart"' in page.text
        assert "use an alternative to clopidogrel" in page.text  # clinician version
        replay = client.get(back.headers["location"])  # a state is good once
        assert replay.status_code == 400


def test_launch_from_an_unregistered_ehr_is_refused(world):
    r = httpx.get(f"{world['base']}/report/launch",
                  params={"iss": "https://evil.example/fhir", "launch": "x"})  # fmt: skip
    assert r.status_code == 403 and r.json()["resourceType"] == "OperationOutcome"


def test_callback_with_a_forged_state_is_refused(world):
    r = httpx.get(f"{world['base']}/report/callback", params={"code": "c", "state": "forged"})
    assert r.status_code == 400
