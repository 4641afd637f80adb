"""Encryption at rest applied: which resources the store seals, and the sealer it is given.

What is sealed (the whole stored JSON of the resource, including its history versions written
from then on), for resources in a patient's compartment:

- **genomic data**: every `Observation`, `DiagnosticReport` or `Condition` that
  `pmed.governance.sensitivity` labels `GDIS` — Genomics
  Reporting IG profiles, the genetics category (`GE`, `genetics`, `genomics`), genomic LOINC
  codes (genotype 84413-4, therapeutic implication / phenotype 53040-2, gene studied 48018-6,
  variant and report panels, …) or an explicit `GDIS` security label — and every
  `MolecularSequence`;
- **free-text notes**: every `DocumentReference` (its attachments hold the note), and every
  `Observation`, `Condition` or `DiagnosticReport` that carries a `note` or a narrative
  `text.div`.

Everything else (the Patient, labs and vitals without notes, medications, encounters) is stored
as before, so the common ingest path pays one cheap substring test per resource. Resources with
no patient (no key to seal under) are not sealed. The index tables (codes, dates, references
used by search) stay in clear: they hold codes, never the diplotype text or note text.

Sealed value: `pmed-sealed:v1:<patient id>:<base64(nonce || AES-256-GCM ciphertext)>` under the
patient's data key, with `pmed-sealed:v1|<patient>|<type>/<id>` as associated data, so a value
moved to another patient or resource does not open. The row's `hash` is then a BLAKE2b digest
keyed with a key derived from the patient's data key: still deterministic (an identical
re-ingest changes nothing) but useless for guessing a low-entropy genotype by hashing
candidates, and meaningless once the key is shredded.

Caveats: enabling sealing does not rewrite rows stored before (re-ingesting them stores a
sealed new version; the old plaintext version stays in history). A data key cached by another
running process survives a shred there until that process restarts.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import secrets
import threading
import weakref
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import sqlalchemy as sa
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy.engine import Connection, Engine

from pmed.config import Settings
from pmed.errors import AccessDenied
from pmed.governance import tables
from pmed.governance.config import GovernanceConfig
from pmed.governance.encryption import KeyDestroyed, PatientKeys, load_master_key
from pmed.governance.sensitivity import GENOMIC_LOINC, labels_of
from pmed.record.sealing import SEALED_PREFIX
from pmed.record.store import Store

__all__ = ["ContentSealer", "attach_sealer", "master_key_configured", "should_seal"]

_V1 = SEALED_PREFIX + "v1:"
_ALWAYS = frozenset({"DocumentReference", "MolecularSequence"})
_NOTE_TYPES = frozenset({"Observation", "Condition", "DiagnosticReport"})
#: Cheap pre-filters over the compact JSON (`orjson`), before anything is parsed: LOINC-like
#: codes (one literal-prefixed scan) and the genomic markers `labels_of` looks for.
_CODE = re.compile(r'"code":"(\d{3,7}-\d)"')
_GENOMIC_MARKERS = ('"GE"', '"GDIS"', '"genetics"', '"genomics"', "genomics-reporting")


def should_seal(rtype: str, content: str) -> bool:
    """Whether a resource (its compact serialised JSON) is genomic data or a free-text note.

    Only `Observation`, `Condition`, `DiagnosticReport` (genomic, or with a note or narrative),
    `DocumentReference` and `MolecularSequence` (always) are candidates; every other type
    returns at once, so the common ingest path pays one set lookup."""
    if rtype not in _NOTE_TYPES:
        return rtype in _ALWAYS
    genomic = not GENOMIC_LOINC.isdisjoint(_CODE.findall(content)) or any(
        m in content for m in _GENOMIC_MARKERS
    )
    text = '"note":' in content or '"div":' in content
    if not (genomic or text):
        return False
    resource = orjson.loads(content)
    if genomic and "GDIS" in labels_of(resource):
        return True
    if text:
        narrative = resource.get("text")
        return bool(resource.get("note")) or (
            isinstance(narrative, dict) and bool(narrative.get("div"))
        )
    return False


class ContentSealer:
    """The store's `pmed.record.sealing.Sealer`: AES-256-GCM under per-patient data keys."""

    def __init__(self, keys: PatientKeys) -> None:
        self.keys = keys
        self._hash_keys: dict[bytes, bytes] = {}
        #: keys looked up or made inside each open write transaction (gone with it)
        self._in_tx: weakref.WeakKeyDictionary[Any, dict[str, bytes]] = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    def _data_key_in(self, conn: Connection, patient_id: str) -> bytes:
        """The patient's data key, created inside the write's transaction when new.

        Keys read or made in an uncommitted transaction are remembered for that transaction
        only (a rollback must not leave a cached key that was never stored)."""
        cached = self.keys.cached(patient_id)
        if cached is not None:
            return cached
        tx = conn.get_transaction()
        with self._lock:  # API writes run in threads, each in its own transaction
            memo = self._in_tx.setdefault(tx, {}) if tx is not None else {}
        if patient_id not in memo:
            memo[patient_id] = self._lookup_or_create(conn, patient_id)
        return memo[patient_id]

    def _lookup_or_create(self, conn: Connection, patient_id: str) -> bytes:
        k = tables.patient_keys.c
        row = conn.execute(
            sa.select(k.master_key_id, k.wrapped).where(k.patient_id == patient_id)
        ).first()
        if row is not None:
            return self.keys.unwrap(patient_id, row.master_key_id, row.wrapped)
        dek = AESGCM.generate_key(bit_length=256)
        conn.execute(
            tables.patient_keys.insert(),
            [
                {
                    "patient_id": patient_id,
                    "master_key_id": self.keys.master.key_id,
                    "wrapped": self.keys.wrap(patient_id, dek),
                    "created": datetime.now(UTC).isoformat(),
                }
            ],
        )
        return dek

    def _digest(self, dek: bytes, content: bytes) -> str:
        hkey = self._hash_keys.get(dek)
        if hkey is None:
            hkey = hashlib.blake2b(b"pmed-content-hash", key=dek, digest_size=32).digest()
            if len(self._hash_keys) > 10000:
                self._hash_keys.clear()
            self._hash_keys[dek] = hkey
        return hashlib.blake2b(content, digest_size=16, key=hkey).hexdigest()

    def seal(
        self, conn: Connection, patient_id: str, rtype: str, rid: str, content: str
    ) -> tuple[str, str] | None:
        if not should_seal(rtype, content):
            return None
        dek = self._data_key_in(conn, patient_id)
        raw = content.encode()
        nonce = secrets.token_bytes(12)
        aad = f"pmed-sealed:v1|{patient_id}|{rtype}/{rid}".encode()
        blob = base64.b64encode(nonce + AESGCM(dek).encrypt(nonce, raw, aad)).decode()
        return f"{_V1}{patient_id}:{blob}", self._digest(dek, raw)

    def unseal(self, rtype: str, rid: str, sealed: str) -> str:
        patient_id, _, blob = sealed.removeprefix(_V1).partition(":")
        if not sealed.startswith(_V1) or not blob:
            raise AccessDenied(f"{rtype}/{rid} is sealed in a format this version cannot read")
        try:
            dek = self.keys.data_key(patient_id, create=False)
        except KeyDestroyed as exc:
            raise KeyDestroyed(
                f"{rtype}/{rid} is unreadable: the data key of patient {patient_id} was "
                "destroyed (crypto-shredded when the patient was deleted)"
            ) from exc
        aad = f"pmed-sealed:v1|{patient_id}|{rtype}/{rid}".encode()
        try:
            data = base64.b64decode(blob, validate=True)
            return AESGCM(dek).decrypt(data[:12], data[12:], aad).decode()
        except (InvalidTag, binascii.Error, ValueError) as exc:
            raise AccessDenied(
                f"{rtype}/{rid} does not open with its patient's key (altered or moved)"
            ) from exc


def master_key_configured(config: GovernanceConfig) -> bool:
    """A master key is set (`PMED_MASTER_KEY`, `PMED_MASTER_KEY_FILE`) or the default key file
    `PMED_HOME/keys/master.key` exists (`pmed auth rotate-master-key` or a shred makes it)."""
    if config.master_key or config.master_key_file:
        return True
    return (Path(config.home) / "keys" / "master.key").exists()


def open_sealer(engine: Engine, config: GovernanceConfig) -> ContentSealer:
    return ContentSealer(PatientKeys(engine, load_master_key(config)))


def attach_sealer(
    store: Store, settings: Settings | None = None, config: GovernanceConfig | None = None
) -> Store:
    """Give the store a sealer when a master key is configured (and it has none); returns it."""
    config = config or GovernanceConfig.from_env(settings or Settings.from_env())
    if store.sealer is None and master_key_configured(config):
        store.sealer = open_sealer(store.engine, config)
    return store


def patient_keys_of(store: Store, config: GovernanceConfig) -> PatientKeys:
    """The store's sealer's keys (so a shred also empties its cache), or fresh ones."""
    sealer: Any = store.sealer
    if isinstance(sealer, ContentSealer):
        return sealer.keys
    return PatientKeys(store.engine, load_master_key(config))
