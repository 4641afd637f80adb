"""CDS Hooks test fixtures: real uvicorn servers on loopback ports.

`cds` serves a store holding the care test patient `p1` (tests/care/builders.cardiometabolic)
and the spec examples' patient `1288992`, with client JWTs relaxed (development mode) unless a
test installs its own verifier. `ehr` is a second pmed server standing in for a CDS client's
FHIR server (`fhirServer`), holding only patient `1288992`, so a request that names it must
fetch its data over HTTP.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from pmed.api.app import create_app
from pmed.api.cds_jwt import CdsJwtVerifier
from pmed.api.server import serve_in_thread
from pmed.config import Settings
from pmed.governance.testing import admin_headers
from pmed.record.store import Store
from tests.care import builders as b


@dataclass
class Server:
    base: str
    client: httpx.Client
    app: Any
    settings: Settings

    def admin(self) -> dict[str, str]:
        """A bearer token of this server's built-in issuer (governance is on by default)."""
        return admin_headers(self.settings)


def spec_patient() -> list[dict]:
    """Patient 1288992 of the CDS Hooks examples (male, born 1925-12-23) with an HbA1c of 7.0%
    and no diabetes diagnosis, so a card proves where the data came from."""
    pid = "1288992"
    return [
        {"resourceType": "Patient", "id": pid, "gender": "male", "birthDate": "1925-12-23",
         "active": True},
        b.obs("a1c-1288992", "4548-4", 7.0, "%", pid=pid),
    ]  # fmt: skip


def _serve(tmp_path_factory: pytest.TempPathFactory, name: str, resources: list[dict]):
    settings = Settings(home=tmp_path_factory.mktemp(name))
    store = Store.open(settings)
    if resources:
        store.write_batch(resources)
    app = create_app(settings, store=store)
    app.state.cds_jwt = CdsJwtVerifier(development=True)
    return settings, store, app


@pytest.fixture(scope="module")
def cds(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    settings, store, app = _serve(tmp_path_factory, "cds", b.cardiometabolic() + spec_patient())
    with serve_in_thread(app) as base, httpx.Client(base_url=base, timeout=30) as client:
        yield Server(base, client, app, settings)
    store.close()


@pytest.fixture(scope="module")
def ehr(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    settings, store, app = _serve(tmp_path_factory, "ehr", spec_patient())
    with serve_in_thread(app) as base, httpx.Client(base_url=base, timeout=30) as client:
        yield Server(base, client, app, settings)
    store.close()


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def server_errors() -> Iterator[list[logging.LogRecord]]:
    """Errors the API logged (the catch-all 500 handler logs there) during the test."""
    handler = _Collect()
    logger = logging.getLogger("pmed.api")
    logger.addHandler(handler)
    yield handler.records
    logger.removeHandler(handler)
