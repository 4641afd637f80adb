"""Bulk Data `$export` end to end: kick-off → poll → manifest → download NDJSON → counts match."""

from __future__ import annotations

import json
import time
from collections import Counter
from typing import Any

import pytest

from tests.api import dataset
from tests.api.conftest import Api, assert_outcome

ASYNC = {"Prefer": "respond-async", "Accept": "application/fhir+json"}
ALL_COUNTS = Counter(r["resourceType"] for r in dataset.ALL)


@pytest.fixture(scope="module", autouse=True)
def record(api: Api) -> None:
    dataset.load(api.client)


def kick_off(api: Api, url: str, **params: str) -> str:
    response = api.client.get(url, headers=ASYNC, params=params)
    assert response.status_code == 202, response.text
    status_url = response.headers["content-location"]
    assert status_url.startswith(f"{api.base}/$export-status/")
    return status_url


def wait(api: Api, status_url: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        response = api.client.get(status_url)
        if response.status_code == 200:
            assert response.headers["content-type"].startswith("application/json")
            manifest: dict[str, Any] = response.json()
            return manifest
        assert response.status_code == 202, response.text
        assert "x-progress" in response.headers
        time.sleep(0.05)
    raise AssertionError("export did not finish in 60 s")


def download(api: Api, manifest: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    files: dict[str, list[dict[str, Any]]] = {}
    for output in manifest["output"]:
        response = api.client.get(output["url"])
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("application/fhir+ndjson")
        lines = [json.loads(line) for line in response.text.splitlines() if line]
        assert all(r["resourceType"] == output["type"] for r in lines)
        assert len(lines) == output["count"]
        files[output["type"]] = lines
    return files


def test_system_export_writes_every_resource_once_per_type_file(api: Api) -> None:
    manifest = wait(api, kick_off(api, "/$export"))
    assert manifest["requiresAccessToken"] is True  # auth is on: the files need the token
    assert manifest["request"].endswith("/$export")
    assert manifest["error"] == []
    files = download(api, manifest)
    assert {t: len(rows) for t, rows in files.items()} == dict(ALL_COUNTS)
    exported_ids = {(r["resourceType"], r["id"]) for rows in files.values() for r in rows}
    assert exported_ids == {(r["resourceType"], r["id"]) for r in dataset.ALL}
    patient = next(r for r in files["Patient"] if r["id"] == "p1")
    assert patient["name"] == dataset.PATIENTS[0]["name"]
    assert patient["meta"]["versionId"]


def test_patient_export_covers_every_compartment_and_nothing_else(api: Api) -> None:
    files = download(api, wait(api, kick_off(api, "/Patient/$export")))
    expected = dict(ALL_COUNTS)
    del expected["Organization"]  # in no patient's compartment
    assert {t: len(rows) for t, rows in files.items()} == expected


def test_type_filter_limits_the_files(api: Api) -> None:
    files = download(api, wait(api, kick_off(api, "/$export", _type="Observation,Condition")))
    assert {t: len(rows) for t, rows in files.items()} == {"Observation": 8, "Condition": 2}
    files = download(api, wait(api, kick_off(api, "/Patient/$export", _type="Condition")))
    assert {t: len(rows) for t, rows in files.items()} == {"Condition": 2}


def test_since_excludes_resources_not_changed_after_it(api: Api) -> None:
    manifest = wait(api, kick_off(api, "/$export", _since="2999-01-01T00:00:00Z"))
    assert manifest["output"] == []
    manifest = wait(api, kick_off(api, "/$export", _since="2000-01-01T00:00:00Z"))
    assert sum(o["count"] for o in manifest["output"]) == len(dataset.ALL)


def test_export_files_are_written_under_pmed_home(api: Api) -> None:
    status_url = kick_off(api, "/$export", _type="Patient")
    wait(api, status_url)
    job = status_url.rsplit("/", 1)[1]
    path = api.settings.home / "exports" / job / "Patient.ndjson"
    assert len(path.read_text().splitlines()) == 4


def test_delete_cancels_and_removes_the_job(api: Api) -> None:
    status_url = kick_off(api, "/$export")
    job = status_url.rsplit("/", 1)[1]
    assert api.client.delete(status_url).status_code == 202
    assert_outcome(api.client.get(status_url), 404)
    assert not (api.settings.home / "exports" / job).exists()
    assert_outcome(api.client.delete(status_url), 404)


def test_output_format_ndjson_is_accepted(api: Api) -> None:
    status_url = kick_off(
        api, "/$export", _outputFormat="application/fhir+ndjson", _type="Encounter"
    )
    assert [o["count"] for o in wait(api, status_url)["output"]] == [1]
