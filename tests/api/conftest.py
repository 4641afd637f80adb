"""API test fixtures: a real uvicorn server on a loopback port per test module, per backend.

`api` is module-scoped and parametrised over SQLite and PostgreSQL (the throwaway cluster of the
root conftest), so each module starts one server per backend and its tests talk real HTTP to it
with httpx. `unexpected_errors` collects what the catch-all 500 handler logged, so tests can
assert that bad input never reaches it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from pmed.api.app import create_app
from pmed.api.server import serve_in_thread
from pmed.config import Settings
from pmed.governance.testing import admin_headers

FHIR_JSON = "application/fhir+json"


@dataclass
class Api:
    base: str
    client: httpx.Client
    settings: Settings
    backend: str


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().startswith("unhandled error"):
            self.records.append(record)


_UNEXPECTED = _Collect()
logging.getLogger("pmed.api").addHandler(_UNEXPECTED)


@pytest.fixture
def unexpected_errors() -> Iterator[list[logging.LogRecord]]:
    """What the catch-all handler logged during the test (should stay empty)."""
    _UNEXPECTED.records.clear()
    yield _UNEXPECTED.records


def start_api(
    backend: str, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[Api]:
    home = tmp_path_factory.mktemp(f"api-{backend}")
    if backend == "sqlite":
        settings = Settings(home=home)
    else:
        cluster = request.getfixturevalue("postgres_cluster")
        if cluster is None:
            pytest.skip("PostgreSQL is not available here (set PMED_TEST_POSTGRES=required)")
        settings = Settings(home=home, database_url=cluster.new_database())
    with (
        serve_in_thread(create_app(settings)) as base,
        httpx.Client(
            base_url=base, timeout=30, headers={"Accept": FHIR_JSON, **admin_headers(settings)}
        ) as client,
    ):
        yield Api(base=base, client=client, settings=settings, backend=backend)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def api(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    yield from start_api(str(request.param), tmp_path_factory, request)


@pytest.fixture(scope="module")
def sqlite_api(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Api]:
    yield from start_api("sqlite", tmp_path_factory, request)


def assert_outcome(response: httpx.Response, status: int, *, code: str | None = None) -> str:
    """The response is an OperationOutcome with this status; its diagnostics."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(FHIR_JSON), response.headers
    body: dict[str, Any] = response.json()
    assert body["resourceType"] == "OperationOutcome", body
    issue = body["issue"][0]
    assert issue["severity"] in ("error", "fatal")
    if code is not None:
        assert issue["code"] == code, issue
    return str(issue.get("diagnostics", ""))


def ids(bundle: dict[str, Any]) -> list[str]:
    """The ids of a searchset's match entries, in order."""
    return [
        e["resource"]["id"]
        for e in bundle.get("entry", [])
        if e.get("search", {}).get("mode", "match") == "match"
    ]
