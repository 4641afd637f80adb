"""Protection at rest: AES-256-GCM under per-patient data keys, wrapped by a master key.

Each patient gets a random 256-bit data key (DEK) on first use, stored only wrapped (AES-GCM
under the master key, with the patient id as associated data) in `gov_patient_keys`. Sensitive
content (genomic results, free-text notes) is sealed with the DEK as `pmed:v1:<b64(nonce||ct)>`,
bound to the patient and to what it is (associated data), so a ciphertext moved to another
patient or field fails to open.

Master key: `PMED_MASTER_KEY` (base64 of 32 bytes) or the file `PMED_MASTER_KEY_FILE`, default
`PMED_HOME/keys/master.key` (created 0600 on first use). Rotation: `PatientKeys.rotate_master`
re-wraps every DEK under a new master key in one transaction; data never needs re-encrypting.
Crypto-shredding: `PatientKeys.shred(patient)` deletes the patient's wrapped DEK, so every copy
of their ciphertext is unreadable. Copies of the key table in older backups are defeated by
rotating the master key after shredding and destroying the old master: the backup's wrapped DEK
can then no longer be unwrapped (tested).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import secrets
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import sqlalchemy as sa
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy.engine import Engine

from pmed.errors import GoneError, InputError
from pmed.governance import tables
from pmed.governance.config import GovernanceConfig
from pmed.governance.keys import write_private

__all__ = [
    "KeyDestroyed",
    "MasterKey",
    "PatientKeys",
    "load_master_key",
    "open_resource",
    "seal_resource",
]

_PREFIX = "pmed:v1:"
_ENCRYPTED_URL = "urn:pmed:encrypted"


class KeyDestroyed(GoneError):
    """The patient's data key was destroyed (crypto-shredded): their data is unreadable."""


class MasterKey:
    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise InputError("the master key must be 32 bytes (base64 of 32 random bytes)")
        self.key = key
        self.key_id = hashlib.sha256(b"pmed-master:" + key).hexdigest()[:16]

    @classmethod
    def generate(cls) -> MasterKey:
        return cls(secrets.token_bytes(32))

    def encoded(self) -> str:
        return base64.b64encode(self.key).decode()


def load_master_key(config: GovernanceConfig) -> MasterKey:
    """The master key from the environment, the configured file, or `PMED_HOME/keys/master.key`."""
    if config.master_key:
        try:
            return MasterKey(base64.b64decode(config.master_key, validate=True))
        except (binascii.Error, ValueError) as exc:
            raise InputError(
                "PMED_MASTER_KEY is not valid base64", field="PMED_MASTER_KEY"
            ) from exc
    path = config.master_key_file or Path(config.home) / "keys" / "master.key"
    if not path.exists():
        with contextlib.suppress(FileExistsError):
            write_private(path, (MasterKey.generate().encoded() + "\n").encode())
    try:
        return MasterKey(base64.b64decode(path.read_text().strip(), validate=True))
    except (binascii.Error, ValueError) as exc:
        raise InputError(f"{path} does not hold a base64 master key") from exc


def _aad(patient_id: str) -> bytes:
    return b"pmed-dek:" + patient_id.encode()


class PatientKeys:
    """Per-patient data keys in the store's database, wrapped under the master key."""

    def __init__(self, engine: Engine, master: MasterKey) -> None:
        self.engine = engine
        self.master = master
        self._cache: dict[str, bytes] = {}
        self._lock = threading.Lock()
        tables.create_all(engine)

    def cached(self, patient_id: str) -> bytes | None:
        """The data key if this process already holds it (committed and not shredded)."""
        with self._lock:
            return self._cache.get(patient_id)

    def unwrap(self, patient_id: str, master_key_id: str, wrapped: str) -> bytes:
        return self._unwrap(patient_id, master_key_id, wrapped)

    def wrap(self, patient_id: str, dek: bytes) -> str:
        """`dek` wrapped under the current master key, for the `gov_patient_keys` row."""
        return self._wrap(self.master, patient_id, dek)

    def _unwrap(self, patient_id: str, master_key_id: str, wrapped: str) -> bytes:
        if master_key_id != self.master.key_id:
            raise InputError(
                f"the data key of patient {patient_id} is wrapped under master key "
                f"{master_key_id}, not the current one ({self.master.key_id})"
            )
        blob = base64.b64decode(wrapped)
        try:
            return AESGCM(self.master.key).decrypt(blob[:12], blob[12:], _aad(patient_id))
        except InvalidTag as exc:
            raise InputError(f"the data key of patient {patient_id} failed to unwrap") from exc

    def _wrap(self, master: MasterKey, patient_id: str, dek: bytes) -> str:
        nonce = secrets.token_bytes(12)
        return base64.b64encode(
            nonce + AESGCM(master.key).encrypt(nonce, dek, _aad(patient_id))
        ).decode()

    def data_key(self, patient_id: str, *, create: bool = True) -> bytes:
        with self._lock:
            if patient_id in self._cache:
                return self._cache[patient_id]
        k = tables.patient_keys.c
        with self.engine.begin() as conn:
            row = conn.execute(
                sa.select(k.master_key_id, k.wrapped).where(k.patient_id == patient_id)
            ).first()
            if row is None:
                if not create:
                    raise KeyDestroyed(
                        f"patient {patient_id} has no data key (destroyed or never made)"
                    )
                dek = AESGCM.generate_key(bit_length=256)
                conn.execute(
                    tables.patient_keys.insert(),
                    [
                        {
                            "patient_id": patient_id,
                            "master_key_id": self.master.key_id,
                            "wrapped": self._wrap(self.master, patient_id, dek),
                            "created": datetime.now(UTC).isoformat(),
                        }
                    ],
                )
            else:
                dek = self._unwrap(patient_id, row.master_key_id, row.wrapped)
        with self._lock:
            self._cache[patient_id] = dek
        return dek

    def encrypt(self, patient_id: str, plaintext: bytes, context: str = "") -> str:
        nonce = secrets.token_bytes(12)
        aad = f"{patient_id}|{context}".encode()
        ct = AESGCM(self.data_key(patient_id)).encrypt(nonce, plaintext, aad)
        return _PREFIX + base64.b64encode(nonce + ct).decode()

    def decrypt(self, patient_id: str, sealed: str, context: str = "") -> bytes:
        if not sealed.startswith(_PREFIX):
            raise InputError("not a pmed ciphertext")
        blob = base64.b64decode(sealed[len(_PREFIX) :])
        aad = f"{patient_id}|{context}".encode()
        try:
            return AESGCM(self.data_key(patient_id, create=False)).decrypt(
                blob[:12], blob[12:], aad
            )
        except InvalidTag as exc:
            raise InputError(
                "ciphertext does not open with this patient's key and context"
            ) from exc

    def shred(self, patient_id: str) -> bool:
        """Destroy the patient's data key; True if there was one."""
        k = tables.patient_keys.c
        with self.engine.begin() as conn:
            deleted = conn.execute(tables.patient_keys.delete().where(k.patient_id == patient_id))
        with self._lock:
            self._cache.pop(patient_id, None)
        return bool(deleted.rowcount)

    def rotate_master(self, new_master: MasterKey) -> int:
        """Re-wrap every data key under `new_master` (one transaction); returns how many."""
        k = tables.patient_keys.c
        with self.engine.begin() as conn:
            rows = conn.execute(sa.select(k.patient_id, k.master_key_id, k.wrapped)).all()
            for row in rows:
                dek = self._unwrap(row.patient_id, row.master_key_id, row.wrapped)
                conn.execute(
                    tables.patient_keys.update()
                    .where(k.patient_id == row.patient_id)
                    .values(
                        master_key_id=new_master.key_id,
                        wrapped=self._wrap(new_master, row.patient_id, dek),
                    )
                )
        self.master = new_master
        with self._lock:
            self._cache.clear()
        return len(rows)


def seal_resource(keys: PatientKeys, resource: dict[str, Any], patient_id: str) -> dict[str, Any]:
    """The resource with its whole content sealed: identity, subject and a security label stay
    visible (so it can be indexed and found), everything else is one ciphertext extension."""
    rtype, rid = resource["resourceType"], resource.get("id", "")
    sealed = keys.encrypt(patient_id, orjson.dumps(resource), f"{rtype}/{rid}")
    shell: dict[str, Any] = {"resourceType": rtype, "id": rid}
    for name in ("subject", "patient"):
        if name in resource:
            shell[name] = resource[name]
    shell["meta"] = {
        "security": [
            {
                "system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue",
                "code": "MASKED",
            }
        ]
    }
    shell["extension"] = [{"url": _ENCRYPTED_URL, "valueString": sealed}]
    return shell


def open_resource(keys: PatientKeys, shell: dict[str, Any], patient_id: str) -> dict[str, Any]:
    """The original of a `seal_resource` shell (KeyDestroyed once the patient is shredded)."""
    for ext in shell.get("extension") or []:
        if ext.get("url") == _ENCRYPTED_URL:
            data = keys.decrypt(
                patient_id, ext["valueString"], f"{shell['resourceType']}/{shell.get('id', '')}"
            )
            opened: dict[str, Any] = orjson.loads(data)
            return opened
    return shell
