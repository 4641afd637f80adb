"""Every route of the published OpenAPI schema, probed without a token and with generated
input: nothing succeeds unauthenticated except the public discovery and proof documents, and
no input makes the server fail (5xx). A bounded, dependency-free stand-in for schemathesis."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.governance.api_world import headers, world

PUBLIC = re.compile(
    r"^/(metadata|openapi\.json|docs.*|redoc.*|\.well-known/.*|\$ledger/.*|cds-services)$"
)
CDS_OWN_AUTH = re.compile(r"^/cds-services/.+")  # CDS Hooks: the client's JWT, checked by the route


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return world(tmp_path_factory.mktemp("fuzz") / "home")


def operations(client: Any) -> list[tuple[str, str, dict[str, Any]]]:
    schema = client.get("/openapi.json").json()
    return [
        (method.upper(), path, op)
        for path, item in schema["paths"].items()
        for method, op in item.items()
        if method in ("get", "post", "put", "delete", "patch")
    ]


def fill(path: str, value: str = "p1") -> str:
    return re.sub(r"\{[^}]+\}", value, path)


def test_nothing_but_public_documents_answers_without_a_token(api: Any) -> None:
    client, _, _ = api
    ops = operations(client)
    assert len(ops) >= 20
    for method, path, _ in ops:
        url = fill(path)
        r = client.request(
            method, url, content=b"{}", headers={"Content-Type": "application/fhir+json"}
        )
        assert r.status_code < 500, (method, path, r.status_code, r.text)
        if PUBLIC.match(path) and method == "GET":
            continue
        if CDS_OWN_AUTH.match(path):
            assert r.status_code in (400, 401, 404), (method, path, r.status_code)
            continue
        assert r.status_code == 401, (method, path, r.status_code, r.text[:200])


_text = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=0, max_size=40
)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_generated_input_never_makes_the_server_fail(api: Any, data: st.DataObject) -> None:
    client, world_settings, _ = api
    role = data.draw(st.sampled_from(["admin", "patient-p1", "clinician-care-team", "researcher"]))
    h = headers(world_settings, role)
    ops = [o for o in operations_cache(client) if o[0] in ("GET", "DELETE", "POST")]
    method, path, op = data.draw(st.sampled_from(ops))
    segment = data.draw(
        _text.filter(
            lambda s: "/" not in s and "?" not in s and "#" not in s and s not in (".", "..")
        )
    )
    params = {
        p["name"]: data.draw(_text)
        for p in op.get("parameters", [])
        if p.get("in") == "query" and data.draw(st.booleans())
    }
    body = data.draw(
        st.one_of(st.just(b""), st.binary(max_size=64), st.just(b'{"resourceType":"Consent"}'))
    )
    r = client.request(
        method,
        fill(path, quote(segment, safe="") or "x"),
        params=params,
        content=body,
        headers={**h, "Content-Type": "application/fhir+json"},
    )
    assert r.status_code < 500, (method, path, segment, params, r.status_code, r.text[:300])


_OPS: list[tuple[str, str, dict[str, Any]]] = []


def operations_cache(client: Any) -> list[tuple[str, str, dict[str, Any]]]:
    if not _OPS:
        _OPS.extend(o for o in operations(client) if "$export" not in o[1])
    return _OPS


def test_the_fuzz_world_is_a_real_store(api: Any, tmp_path: Path) -> None:
    client, world_settings, _ = api
    assert client.get("/Patient/p1", headers=headers(world_settings, "admin")).status_code == 200
