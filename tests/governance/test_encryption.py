"""Per-patient AES-GCM data keys under a master key; rotation; crypto-shredding."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from pmed.config import Settings
from pmed.errors import InputError
from pmed.governance import tables
from pmed.governance.config import GovernanceConfig
from pmed.governance.encryption import (
    KeyDestroyed,
    MasterKey,
    PatientKeys,
    load_master_key,
    open_resource,
    seal_resource,
)
from pmed.record.store import Store

NOTE = {
    "resourceType": "DocumentReference",
    "id": "n1",
    "subject": {"reference": "Patient/p1"},
    "content": [{"attachment": {"contentType": "text/plain", "data": "UGF0aWVudCBub3Rl"}}],
}


@pytest.fixture
def keys(sqlite_settings: Settings) -> PatientKeys:
    store = Store.open(sqlite_settings)
    return PatientKeys(store.engine, load_master_key(GovernanceConfig(home=sqlite_settings.home)))


def test_sealed_resources_open_for_their_patient_only(keys: PatientKeys) -> None:
    shell = seal_resource(keys, NOTE, "p1")
    assert "content" not in shell and "UGF0aWVudCBub3Rl" not in str(shell)
    assert shell["subject"] == NOTE["subject"]
    assert open_resource(keys, shell, "p1") == NOTE
    with pytest.raises((InputError, KeyDestroyed)):
        open_resource(keys, shell, "p2")


def test_a_ciphertext_moved_to_another_field_fails(keys: PatientKeys) -> None:
    sealed = keys.encrypt("p1", b"CYP2D6 *4/*4", "Observation/a")
    assert keys.decrypt("p1", sealed, "Observation/a") == b"CYP2D6 *4/*4"
    with pytest.raises(InputError):
        keys.decrypt("p1", sealed, "Observation/b")


def test_data_keys_are_stored_only_wrapped(keys: PatientKeys) -> None:
    dek = keys.data_key("p1")
    with keys.engine.connect() as conn:
        wrapped = conn.execute(sa.select(tables.patient_keys.c.wrapped)).scalar_one()
    assert dek.hex() not in wrapped and dek not in wrapped.encode()


def test_master_rotation_rewraps_keys_and_data_stays_readable(keys: PatientKeys) -> None:
    sealed = keys.encrypt("p1", b"note", "x")
    new = MasterKey.generate()
    assert keys.rotate_master(new) == 1
    assert keys.decrypt("p1", sealed, "x") == b"note"
    stale = PatientKeys(keys.engine, MasterKey.generate())
    with pytest.raises(InputError):
        stale.decrypt("p1", sealed, "x")


def test_crypto_shredding_makes_every_copy_unreadable_backups_included(keys: PatientKeys) -> None:
    sealed = keys.encrypt("p1", b"genome", "MolecularSequence/1")
    keys.encrypt("p2", b"other", "x")
    with keys.engine.connect() as conn:  # a backup of the key table taken before deletion
        backup = [dict(r._mapping) for r in conn.execute(sa.select(tables.patient_keys))]
    assert keys.shred("p1")
    with pytest.raises(KeyDestroyed):
        keys.decrypt("p1", sealed, "MolecularSequence/1")
    keys.rotate_master(MasterKey.generate())  # the old master is then destroyed
    with keys.engine.begin() as conn:  # restore the backup's copy of p1's wrapped key
        conn.execute(tables.patient_keys.insert(), [r for r in backup if r["patient_id"] == "p1"])
    restored = PatientKeys(keys.engine, keys.master)
    with pytest.raises(InputError):
        restored.decrypt("p1", sealed, "MolecularSequence/1")
    assert restored.decrypt("p2", keys.encrypt("p2", b"ok"), "") == b"ok"


def test_master_key_from_the_environment_must_be_32_bytes(tmp_path) -> None:
    good = MasterKey.generate()
    cfg = GovernanceConfig(home=tmp_path, master_key=good.encoded())
    assert load_master_key(cfg).key == good.key
    with pytest.raises(InputError):
        load_master_key(GovernanceConfig(home=tmp_path, master_key="c2hvcnQ="))
    file_key = load_master_key(GovernanceConfig(home=tmp_path))
    assert (tmp_path / "keys" / "master.key").stat().st_mode & 0o777 == 0o600
    assert load_master_key(GovernanceConfig(home=tmp_path)).key == file_key.key
