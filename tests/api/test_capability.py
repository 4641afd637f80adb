"""`/metadata`, the OpenAPI document, and `pmed serve`."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from click.testing import CliRunner

from pmed.api.server import free_port
from pmed.record.search import supported_params
from tests.api.conftest import Api


def _resource(statement: dict[str, Any], rtype: str) -> dict[str, Any]:
    return next(r for r in statement["rest"][0]["resource"] if r["type"] == rtype)


def test_capability_statement_lists_what_the_store_searches(sqlite_api: Api) -> None:
    response = sqlite_api.client.get("/metadata")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/fhir+json")
    statement = response.json()
    assert statement["resourceType"] == "CapabilityStatement"
    assert statement["fhirVersion"] == "4.0.1" and statement["kind"] == "instance"
    patient = _resource(statement, "Patient")
    names = {p["name"]: p["type"] for p in patient["searchParam"]}
    assert {"name", "birthdate", "gender", "identifier"} <= set(names)
    assert names["birthdate"] == "date" and names["gender"] == "token"
    assert set(names) == set(supported_params("Patient"))
    observation = {p["name"]: p["type"] for p in _resource(statement, "Observation")["searchParam"]}
    assert observation["date"] == "date" and observation["patient"] == "reference"
    interactions = {i["code"] for i in patient["interaction"]}
    assert interactions == {"read", "vread", "update", "delete", "history-instance", "create",
                            "search-type"}  # fmt: skip
    assert {o["name"] for o in patient["operation"]} == {"everything", "export"}
    rest = statement["rest"][0]
    assert {i["code"] for i in rest["interaction"]} == {"transaction", "batch"}
    assert [o["name"] for o in rest["operation"]] == ["export"]


def test_openapi_document_and_docs_are_published(sqlite_api: Api) -> None:
    schema = sqlite_api.client.get("/openapi.json").json()
    for path in ("/metadata", "/{rtype}", "/{rtype}/{rid}", "/Patient/{rid}/$everything",
                 "/$export", "/$export-status/{job_id}", "/"):  # fmt: skip
        assert path in schema["paths"], path
    assert "post" in schema["paths"]["/"]
    docs = sqlite_api.client.get("/docs", headers={"Accept": "text/html"})
    assert docs.status_code == 200 and "swagger" in docs.text.lower()


def test_serve_command_is_registered_with_host_port_and_reload() -> None:
    from pmed.cli import cli

    result = CliRunner().invoke(cli, ["serve", "--help"])
    assert result.exit_code == 0, result.output
    for option in ("--host", "--port", "--reload"):
        assert option in result.output


def test_pmed_serve_starts_a_server_that_answers_metadata(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "PMED_HOME": str(tmp_path / "home")}
    env.pop("PMED_DATABASE_URL", None)
    process = subprocess.Popen(
        [sys.executable, "-c", "from pmed.cli import main; main()", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/metadata", timeout=5)
                break
            except httpx.TransportError:
                assert process.poll() is None, process.stderr.read() if process.stderr else ""
                assert time.monotonic() < deadline, "pmed serve did not start in 60 s"
                time.sleep(0.2)
        assert response.status_code == 200
        assert response.json()["resourceType"] == "CapabilityStatement"
    finally:
        process.terminate()
        process.wait(timeout=30)
