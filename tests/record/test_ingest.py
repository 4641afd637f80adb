"""Ingestion: real Synthea bundles load with the right counts; bad files change nothing."""

from __future__ import annotations

import json
import os
import tracemalloc
from collections import Counter
from pathlib import Path

import orjson
import pytest

from pmed.config import Settings
from pmed.errors import InputError
from pmed.record.ingest import ingest_file, ingest_paths
from pmed.record.store import Store
from tests.conftest import DATA
from tests.record.builders import observation, patient, transaction, urn
from tests.record.store_snapshot import snapshot

SYNTHEA = DATA / "fhir" / "synthea"


@pytest.fixture
def store(settings: Settings) -> Store:
    return Store.open(settings)


@pytest.fixture
def sqlite_store(sqlite_settings: Settings) -> Store:
    return Store.open(sqlite_settings)


def expected_counts(files: list[Path]) -> Counter[str]:
    """Distinct (type, id) per type, read with the standard json module, independently of pmed."""
    seen: set[tuple[str, str]] = set()
    for path in files:
        for entry in json.loads(path.read_text(encoding="utf-8"))["entry"]:
            seen.add((entry["resource"]["resourceType"], entry["resource"]["id"]))
    return Counter(t for t, _ in seen)


def write(tmp_path: Path, name: str, content: object) -> Path:
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else orjson.dumps(content))
    return path


def test_every_synthea_bundle_ingests_with_the_right_counts(store: Store) -> None:
    files = sorted(SYNTHEA.glob("*.json"))
    assert len(files) == 20
    summary = ingest_paths(store, [SYNTHEA])
    assert summary.failed == []
    assert store.counts() == dict(expected_counts(files))


def test_reingesting_the_same_files_changes_nothing(store: Store) -> None:
    files = sorted(SYNTHEA.glob("A*.json"))
    ingest_paths(store, files)
    before = snapshot(store)
    again = ingest_paths(store, files)
    assert again.totals.created == again.totals.updated == 0
    assert snapshot(store) == before


def test_urn_uuid_references_become_relative_references(sqlite_store: Store) -> None:
    path = SYNTHEA / "Antony_Anderson_88fedc82-1cc1-4e01-9ef1-145bbf149bb0.json"
    ingest_file(sqlite_store, path)
    entries = json.loads(path.read_text())["entry"]
    patient_id = next(
        e["resource"]["id"] for e in entries if e["resource"]["resourceType"] == "Patient"
    )
    resources = list(sqlite_store.patient_resources(patient_id))
    assert resources[0]["resourceType"] == "Patient"
    text = json.dumps(resources)
    assert "urn:uuid:" not in text
    assert len(resources) == sum(
        1 for e in entries if e["resource"]["resourceType"] not in ("Organization", "Practitioner")
    )


def test_ndjson_and_single_resources_ingest(tmp_path: Path, store: Store) -> None:
    lines = [patient("p1"), observation("o1", "p1", "2093-3", "2020-01-01", 200)]
    ndjson = tmp_path / "Observation.ndjson"
    ndjson.write_bytes(b"\n".join(orjson.dumps(r) for r in lines) + b"\n\n")
    single = write(tmp_path, "p2.json", patient("p2", "Jones"))
    summary = ingest_paths(store, [ndjson, single])
    assert summary.failed == []
    assert store.counts() == {"Observation": 1, "Patient": 2}


def test_conditional_reference_resolves_against_the_store_and_later_files(
    tmp_path: Path, sqlite_store: Store
) -> None:
    practitioner = {
        "resourceType": "Practitioner",
        "id": "dr1",
        "identifier": [{"system": "http://hl7.org/fhir/sid/us-npi", "value": "999"}],
    }
    enc = {
        "resourceType": "Encounter",
        "id": "e1",
        "status": "finished",
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
        "subject": {"reference": urn("p1")},
        "participant": [
            {
                "individual": {
                    "reference": "Practitioner?identifier=http://hl7.org/fhir/sid/us-npi|999"
                }
            }
        ],
    }
    write(tmp_path, "a_patient.json", transaction(patient("p1"), enc))
    write(tmp_path, "b_practitioners.json", transaction(practitioner))
    summary = ingest_paths(sqlite_store, [tmp_path])  # a_ needs b_: deferred, then retried
    assert summary.failed == []
    stored = sqlite_store.read("Encounter", "e1")
    assert stored["participant"][0]["individual"]["reference"] == "Practitioner/dr1"
    assert stored["subject"]["reference"] == "Patient/p1"


def test_unresolvable_conditional_reference_fails_the_file(
    tmp_path: Path, sqlite_store: Store
) -> None:
    enc = {
        "resourceType": "Encounter",
        "id": "e1",
        "status": "finished",
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
        "participant": [{"individual": {"reference": "Practitioner?identifier=x|nobody"}}],
    }
    path = write(tmp_path, "enc.json", transaction(enc))
    summary = ingest_paths(sqlite_store, [path])
    assert len(summary.failed) == 1
    assert "matches no resource" in (summary.failed[0].error or "")
    assert "Encounter.participant[0].individual.reference" in (summary.failed[0].error or "")
    assert sqlite_store.counts() == {}


def test_if_none_exist_does_not_duplicate(tmp_path: Path, sqlite_store: Store) -> None:
    sqlite_store.write_batch([patient("p1")])
    bundle = transaction(patient("other-id"))
    bundle["entry"][0]["request"]["ifNoneExist"] = "identifier=urn:mrn|MRN-p1"
    bundle["entry"][0]["resource"]["identifier"] = [{"system": "urn:mrn", "value": "MRN-p1"}]
    ingest_file(sqlite_store, write(tmp_path, "b.json", bundle))
    assert sqlite_store.counts() == {"Patient": 1}


BAD_INPUTS = {
    "invalid JSON": (b'{"resourceType": "Patient", "id": "x",,}', "invalid JSON"),
    "not UTF-8": (
        b'{"resourceType": "Patient", "id": "x", "name": [{"family": "M\xfcller"}]}',
        "UTF-8",
    ),
    "empty file": (b"   \n", "empty"),
    "wrong resourceType": (orjson.dumps({"resourceType": "Patiënt", "id": "x"}), "Patiënt"),
    "not a resource": (b"[1, 2, 3]", "resourceType"),
    "unknown bundle type": (
        orjson.dumps({"resourceType": "Bundle", "type": "shopping-list", "entry": []}),
        "Bundle.type",
    ),
    "dangling reference": (
        orjson.dumps(transaction(observation("o1", "nobody", "2093-3", "2020-01-01", 1))).replace(
            b"Patient/nobody", urn("nobody").encode()
        ),
        "points to no entry",
    ),
    "invalid element": (
        orjson.dumps(transaction(patient("p9"), {**patient("p8"), "birthDate": "02/05/1970"})),
        "birthDate",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_is_rejected_with_a_clear_error_and_changes_nothing(
    tmp_path: Path, store: Store, case: str
) -> None:
    store.write_batch([patient("p1")])
    before = snapshot(store)
    content, message = BAD_INPUTS[case]
    path = write(tmp_path, "bad.json", content)
    with pytest.raises(InputError) as info:
        ingest_file(store, path)
    assert str(path) in str(info.value)
    assert message in str(info.value)
    assert snapshot(store) == before


def test_bad_ndjson_line_names_its_line_and_changes_nothing(
    tmp_path: Path, sqlite_store: Store
) -> None:
    path = tmp_path / "bad.ndjson"
    path.write_bytes(
        orjson.dumps(patient("p1")) + b"\n" + orjson.dumps(patient("p2")) + b"\n{oops\n"
    )
    with pytest.raises(InputError, match="line 3"):
        ingest_file(sqlite_store, path)
    assert sqlite_store.counts() == {}


@pytest.mark.parametrize("name", ["huge.json", "huge.ndjson"])
def test_a_one_gigabyte_file_is_streamed_and_rejected_without_loading_it(
    tmp_path: Path, sqlite_store: Store, name: str
) -> None:
    path = tmp_path / name
    with path.open("wb") as handle:  # sparse: 1 GiB of NUL bytes, not a FHIR file
        handle.truncate(2**30)
    tracemalloc.start()
    with pytest.raises(InputError):
        ingest_file(sqlite_store, path)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 100 * 2**20
    assert sqlite_store.counts() == {}


def big_bundle(tmp_path: Path, patients: int, bad_last: bool) -> Path:
    """A transaction bundle over the streaming threshold, written entry by entry."""
    path = tmp_path / "big.json"
    filler = "x" * 2000
    with path.open("wb") as handle:
        handle.write(b'{"resourceType":"Bundle","type":"transaction","entry":[')
        for i in range(patients):
            res = patient(f"p{i}")
            res["text"] = {
                "status": "generated",
                "div": f'<div xmlns="http://www.w3.org/1999/xhtml">{filler}</div>',
            }
            if bad_last and i == patients - 1:
                res["birthDate"] = "not-a-date"
            entry = {
                "fullUrl": urn(f"p{i}"),
                "resource": res,
                "request": {"method": "POST", "url": "Patient"},
            }
            handle.write((b"," if i else b"") + orjson.dumps(entry))
        handle.write(b"]}")
    return path


@pytest.mark.slow
def test_bundle_over_the_streaming_threshold_loads_in_chunks(
    tmp_path: Path, sqlite_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pmed.record import ingest

    monkeypatch.setattr(ingest, "STREAM_THRESHOLD", 4 * 2**20)
    good = big_bundle(tmp_path, 3000, bad_last=False)
    assert os.path.getsize(good) > ingest.STREAM_THRESHOLD
    result = ingest_file(sqlite_store, good)
    assert result.created == 3000
    bad = big_bundle(tmp_path, 3500, bad_last=True)
    before = snapshot(sqlite_store)
    with pytest.raises(InputError, match="birthDate"):
        ingest_file(sqlite_store, bad)
    assert snapshot(sqlite_store) == before
