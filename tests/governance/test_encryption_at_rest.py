"""Encryption at rest: genomic results and free-text notes are stored sealed under the patient's
data key, read back as plaintext through the store and the API, and become unreadable everywhere
(backups included) once the patient is deleted."""

from __future__ import annotations

import base64
import secrets
import shutil
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from pmed.api.app import create_app
from pmed.config import Settings
from pmed.errors import GoneError, InputError
from pmed.governance import tables
from pmed.governance.config import GovernanceConfig
from pmed.governance.encryption import MasterKey, PatientKeys
from pmed.governance.sealing import ContentSealer, attach_sealer, should_seal
from pmed.governance.sensitivity import labels_of
from pmed.record import schema
from pmed.record.patient import PatientRecord
from pmed.record.sealing import SealedContentError
from pmed.record.sources.vcf import ingest_vcf
from pmed.record.store import Store

VCF = Path(__file__).parents[1] / "data" / "pgx" / "test-vcfs" / "cyp2c19" / "s1s2.vcf"
NOTE = "Patient reports dizziness after clopidogrel; sister had a stroke at 41"
LETTER = "Dear Dr Wu, Mrs Alpha carries CYP2C19 poor metabolizer alleles."


def _patient(pid: str) -> dict[str, Any]:
    return {"resourceType": "Patient", "id": pid, "name": [{"family": "Alpha"}]}


def _lab(oid: str, pid: str, note: str | None = None) -> dict[str, Any]:
    res: dict[str, Any] = {
        "resourceType": "Observation",
        "id": oid,
        "status": "final",
        "subject": {"reference": f"Patient/{pid}"},
        "code": {"coding": [{"system": "http://loinc.org", "code": "2093-3"}]},
        "valueQuantity": {"value": 212, "unit": "mg/dL"},
    }
    if note:
        res["note"] = [{"text": note}]
    return res


def _letter(did: str, pid: str) -> dict[str, Any]:
    return {
        "resourceType": "DocumentReference",
        "id": did,
        "status": "current",
        "subject": {"reference": f"Patient/{pid}"},
        "content": [
            {
                "attachment": {
                    "contentType": "text/plain",
                    "data": base64.b64encode(LETTER.encode()).decode(),
                }
            }
        ],
    }


def _config(settings: Settings) -> GovernanceConfig:
    return GovernanceConfig(home=settings.home, master_key=MASTER.encoded())


MASTER = MasterKey.generate()


@pytest.fixture
def store(settings: Settings) -> Store:
    sealed = attach_sealer(Store.open(settings), config=_config(settings))
    assert isinstance(sealed.sealer, ContentSealer)
    sealed.write_batch([_patient("p1"), _patient("p2"), _lab("lab1", "p1")])
    sealed.write_batch([_lab("noted1", "p1", NOTE), _letter("doc1", "p1"), _lab("lab2", "p2")])
    ingest_vcf(sealed, VCF, "p1")
    return sealed


def _raw(store: Store) -> dict[tuple[str, str], str]:
    r = schema.resources.c
    with store.engine.connect() as conn:
        rows = conn.execute(sa.select(r.type, r.id, r.content, r.deleted)).all()
    return {(row.type, row.id): row.content for row in rows if not row.deleted}


def _genomic_ids(store: Store) -> list[str]:
    return [o["id"] for o in store.patient_resources("p1", ["Observation"]) if labels_of(o)]


def test_genotype_phenotype_and_notes_hold_no_plaintext_in_the_database(store: Store) -> None:
    raw = _raw(store)
    genomic = _genomic_ids(store)
    assert len(genomic) >= 2  # CYP2C19 genotype (84413-4) and phenotypes (53040-2)
    for oid in [*genomic, "noted1"]:
        assert raw[("Observation", oid)].startswith("pmed-sealed:v1:p1:")
    assert raw[("DocumentReference", "doc1")].startswith("pmed-sealed:v1:p1:")
    everything = "\n".join(raw.values())
    for secret in ("*1/*2", "Intermediate Metabolizer", "dizziness", "stroke"):
        assert secret not in everything
    assert base64.b64encode(LETTER.encode()).decode()[:40] not in everything
    # the common path is untouched: labs without notes and the Patient stay plain JSON
    assert raw[("Observation", "lab1")].startswith("{")
    assert raw[("Patient", "p1")].startswith("{")
    with store.engine.connect() as conn:  # the index tables hold codes, never the text
        strings = conn.execute(sa.select(schema.idx_string.c.value)).scalars().all()
    assert not any("*1/*2" in str(s) or "dizziness" in str(s) for s in strings)


def test_every_read_path_returns_plaintext(store: Store) -> None:
    noted = store.read("Observation", "noted1")
    assert noted["note"][0]["text"] == NOTE and noted["meta"]["versionId"] == "1"
    assert store.vread("Observation", "noted1", 1)["note"][0]["text"] == NOTE
    assert store.history("DocumentReference", "doc1")[0]["content"][0]["attachment"]["data"]
    page = store.search("Observation", [("patient", "p1"), ("code", "84413-4")])
    assert page.total == 1 and page.resources[0]["valueCodeableConcept"]["text"] == "CYP2C19 *1/*2"
    assert {r["id"] for r in store.iter_resources("DocumentReference")} == {"doc1"}
    record = PatientRecord.load(store, "p1")
    result = next(g for g in record.genomic_results() if g.gene == "CYP2C19")
    assert (result.diplotype, result.phenotype) == ("*1/*2", "Intermediate Metabolizer")


def test_reingesting_the_same_bundle_changes_nothing_and_the_vcf_keeps_its_ids(
    store: Store,
) -> None:
    before = _raw(store)
    summary = store.write_batch([_lab("noted1", "p1", NOTE), _letter("doc1", "p1")])
    assert (summary.unchanged, summary.written) == (2, 0)
    assert _raw(store) == before  # no new version, not even re-encrypted
    ingest_vcf(store, VCF, "p1")  # the same file again: the same Observations
    after = _raw(store)
    assert after == before
    assert all(
        after[("Observation", oid)].startswith("pmed-sealed:") for oid in _genomic_ids(store)
    )
    edited = store.write_batch([_lab("noted1", "p1", NOTE + " (reviewed)")])
    assert edited.updated == 1
    assert "reviewed" not in _raw(store)[("Observation", "noted1")]
    assert store.vread("Observation", "noted1", 1)["note"][0]["text"] == NOTE  # history opens


def test_a_store_without_the_key_refuses_sealed_rows_clearly(
    store: Store, settings: Settings
) -> None:
    plain = Store.open(settings)
    assert plain.read("Observation", "lab1")["valueQuantity"]["value"] == 212
    with pytest.raises(SealedContentError, match="encrypted at rest and no key is available"):
        plain.read("Observation", "noted1")


def test_shredding_makes_the_data_and_a_backup_unreadable(
    store: Store, settings: Settings, tmp_path: Path
) -> None:
    if store.dialect == "sqlite":
        db = Path(str(store.engine.url.database))
        with store.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(FULL)")
        shutil.copy(db, tmp_path / "backup.db")
    with store.engine.connect() as conn:  # a logical backup: the raw rows and wrapped keys
        backup_rows = _raw(store)
        backup_keys = conn.execute(sa.select(tables.patient_keys)).all()
    assert {row.patient_id for row in backup_keys} == {"p1"}  # p2 has nothing sensitive

    sealer = store.sealer
    assert isinstance(sealer, ContentSealer)
    store.delete("Patient", "p1")
    assert sealer.keys.shred("p1")
    sealer.keys.rotate_master(MasterKey.generate())  # and the old master key is destroyed

    with pytest.raises(GoneError, match="destroyed"):
        store.read("Observation", "noted1")
    with pytest.raises(GoneError):
        store.vread("DocumentReference", "doc1", 1)
    assert store.read("Observation", "lab1")["id"] == "lab1"  # plain data is not encrypted
    found = {r["id"] for r in store.search("Observation", [("patient", "p1")]).resources}
    assert found == {"lab1"}  # sealed rows of a shredded patient are left out of streams
    assert {r["id"] for r in store.iter_resources("DocumentReference")} == set()

    # the backup's ciphertext does not open with today's keys, and its wrapped key does not
    # unwrap under the current master key
    for (rtype, rid), content in backup_rows.items():
        if content.startswith("pmed-sealed:"):
            with pytest.raises(GoneError):
                sealer.unseal(rtype, rid, content)
    restored = PatientKeys(store.engine, sealer.keys.master)
    with pytest.raises(InputError):
        restored.unwrap("p1", backup_keys[0].master_key_id, backup_keys[0].wrapped)
    if store.dialect == "sqlite":
        copy = Store.open(
            Settings(home=tmp_path / "h2", database_url=f"sqlite:///{tmp_path}/backup.db")
        )
        copy.sealer = ContentSealer(PatientKeys(copy.engine, sealer.keys.master))
        with pytest.raises(InputError, match="wrapped under master key"):
            copy.read("Observation", "noted1")


def test_sealing_covers_genomic_codes_notes_and_narrative_only() -> None:
    phenotype = {
        "resourceType": "Observation",
        "code": {"coding": [{"system": "http://loinc.org", "code": "53040-2"}]},
    }
    assert "GDIS" in labels_of(phenotype)  # the phenotype code alone now counts as genomics
    narrative = {"resourceType": "Condition", "text": {"status": "generated", "div": "<div/>"}}
    import orjson

    def check(res: dict[str, Any]) -> bool:
        return should_seal(res["resourceType"], orjson.dumps(res).decode())

    assert check(phenotype) and check(narrative) and check(_lab("x", "p", NOTE))
    assert not check(_lab("x", "p")) and not check({"resourceType": "Condition", "note": []})
    assert not check({"resourceType": "MedicationRequest", "note": [{"text": "take with food"}]})


def test_api_reads_plaintext_and_a_deleted_patients_data_reads_as_gone(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PMED_MASTER_KEY", base64.b64encode(secrets.token_bytes(32)).decode())
    monkeypatch.setenv("PMED_AUTH", "off")
    monkeypatch.setenv("PMED_LEDGER_SYNC", "1")
    client = TestClient(create_app(settings))
    json = {"Content-Type": "application/fhir+json"}
    for res in (_patient("p1"), _lab("noted1", "p1", NOTE), _letter("doc1", "p1")):
        r = client.put(f"/{res['resourceType']}/{res['id']}", json=res, headers=json)
        assert r.status_code in (200, 201), r.text
    store = client.app.state.store  # type: ignore[attr-defined]
    assert "dizziness" not in _raw(store)[("Observation", "noted1")]
    assert client.get("/Observation/noted1").json()["note"][0]["text"] == NOTE
    bundle = client.get("/Patient/p1/$everything").json()
    assert {e["resource"]["id"] for e in bundle["entry"]} == {"p1", "noted1", "doc1"}

    assert client.delete("/Patient/p1").status_code == 204
    gone = client.get("/Observation/noted1")
    assert gone.status_code == 410, gone.text
    assert "destroyed" in gone.json()["issue"][0]["diagnostics"]
    assert client.get("/Observation", params={"patient": "p1"}).json().get("entry", []) == []
    log = client.get("/Patient/p1/$access-log").json()
    assert any(e["resource"]["subtype"][0]["code"] == "delete" for e in log["entry"])


def test_a_failed_write_leaves_no_data_key_behind_and_the_next_one_works(store: Store) -> None:
    from pmed.record.store import prepare_resource

    with pytest.raises(RuntimeError), store.transaction() as conn:
        store.write_prepared(conn, [prepare_resource(_lab("n9", "p9", NOTE))])
        raise RuntimeError("the rest of the file was bad")
    k = tables.patient_keys.c
    with store.engine.connect() as conn:
        assert conn.execute(sa.select(k.patient_id).where(k.patient_id == "p9")).first() is None
    store.write_batch([_lab("n9", "p9", NOTE)])
    assert store.read("Observation", "n9")["note"][0]["text"] == NOTE


def test_pmed_ingest_of_a_vcf_seals_the_calls_when_a_master_key_is_set(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from pmed.cli import cli

    home = tmp_path / "home"
    Store.open(Settings(home=home)).write_batch([_patient("p1")])
    env = {"PMED_HOME": str(home), "PMED_MASTER_KEY": MASTER.encoded()}
    result = CliRunner().invoke(cli, ["ingest", str(VCF), "--patient", "p1"], env=env)
    assert result.exit_code == 0, result.output
    store = Store.open(Settings(home=home))
    sealed = [c for (t, _), c in _raw(store).items() if t == "Observation"]
    assert sealed and all(c.startswith("pmed-sealed:v1:p1:") for c in sealed)
    result = CliRunner().invoke(cli, ["record", "show", "p1", "--json"], env=env)
    assert "*1/*2" in result.output  # read back through the CLI's store, with the key
