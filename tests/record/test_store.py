"""The store keeps versions, reads back what was written, and never half-writes."""

from __future__ import annotations

import pytest

from pmed.config import Settings
from pmed.errors import ConflictError, GoneError, InputError, NotFoundError
from pmed.record.store import Store
from tests.record.builders import observation, patient
from tests.record.store_snapshot import snapshot


@pytest.fixture
def store(settings: Settings) -> Store:
    return Store.open(settings)


def strip_meta(resource: dict) -> dict:
    copy = dict(resource)
    meta = {
        k: v
        for k, v in (copy.pop("meta", None) or {}).items()
        if k not in ("versionId", "lastUpdated")
    }
    if meta:
        copy["meta"] = meta
    return copy


def test_written_resource_reads_back_equal_with_server_meta(store: Store) -> None:
    store.write_batch([patient("p1")])
    read = store.read("Patient", "p1")
    assert strip_meta(read) == patient("p1")
    assert read["meta"]["versionId"] == "1"
    assert read["meta"]["lastUpdated"].endswith("Z")


def test_update_creates_a_new_version_and_keeps_the_old_one(store: Store) -> None:
    store.write_batch([patient("p1")])
    changed = {**patient("p1"), "gender": "other"}
    stored, created = store.update(changed)
    assert not created
    assert stored["meta"]["versionId"] == "2"
    assert store.vread("Patient", "p1", 1)["gender"] == "female"
    assert [v["meta"]["versionId"] for v in store.history("Patient", "p1")] == ["2", "1"]


def test_writing_identical_content_is_a_no_op(store: Store) -> None:
    store.write_batch([patient("p1"), observation("o1", "p1", "2093-3", "2020-01-01", 200)])
    before = snapshot(store)
    summary = store.write_batch(
        [patient("p1"), observation("o1", "p1", "2093-3", "2020-01-01", 200)]
    )
    assert (summary.created, summary.updated, summary.unchanged) == (0, 0, 2)
    assert snapshot(store) == before


def test_if_match_with_a_stale_version_is_a_conflict(store: Store) -> None:
    store.write_batch([patient("p1")])
    store.update({**patient("p1"), "gender": "male"})
    with pytest.raises(ConflictError):
        store.update({**patient("p1"), "gender": "other"}, if_match="1")
    assert store.read("Patient", "p1")["gender"] == "male"


def test_deleted_resource_is_gone_but_its_history_remains(store: Store) -> None:
    store.write_batch([patient("p1")])
    store.delete("Patient", "p1")
    with pytest.raises(GoneError):
        store.read("Patient", "p1")
    history = store.history("Patient", "p1")
    assert history[0]["_deleted"] is True
    assert store.vread("Patient", "p1", 1)["id"] == "p1"
    assert store.search("Patient", [("name", "smith")]).total == 0


def test_unknown_resource_is_not_found(store: Store) -> None:
    with pytest.raises(NotFoundError):
        store.read("Patient", "nope")
    with pytest.raises(NotFoundError):
        store.delete("Patient", "nope")


def test_create_ignores_the_client_id(store: Store) -> None:
    created = store.create(patient("client-chosen"))
    assert created["id"] != "client-chosen"
    assert store.read("Patient", created["id"])["name"][0]["family"] == "Smith"


def test_a_batch_with_one_bad_resource_writes_nothing(store: Store) -> None:
    store.write_batch([patient("p0")])
    before = snapshot(store)
    with pytest.raises(InputError):
        store.write_batch([patient("p1"), {"resourceType": "Patient"}])
    assert snapshot(store) == before


def test_patient_compartment_is_one_lookup_with_the_patient_first(store: Store) -> None:
    store.write_batch(
        [
            observation("o1", "p1", "2093-3", "2020-01-01", 200),
            patient("p1"),
            patient("p2"),
            observation("o2", "p2", "2093-3", "2020-01-01", 180),
        ]
    )
    ids = [(r["resourceType"], r["id"]) for r in store.patient_resources("p1")]
    assert ids == [("Patient", "p1"), ("Observation", "o1")]
