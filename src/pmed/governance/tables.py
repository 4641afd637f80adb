"""Governance's own tables, in the store's database but on a separate SQLAlchemy `MetaData`.

`create_all(engine)` is called when a governance component opens, so a store created before
governance existed gains these tables without touching `pmed.record.schema`.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, MetaData, String, Table, Text
from sqlalchemy.engine import Engine

__all__ = [
    "create_all",
    "ledger_checkpoints",
    "ledger_entries",
    "metadata",
    "patient_keys",
    "token_jti",
]

metadata = MetaData()

#: One row per ledger entry; `seq` is the leaf index, `content` the canonical AuditEvent JSON
#: whose RFC 6962 leaf hash is `leaf_hash`; `mac` = keyed SHA-256 seal over (seq, leaf_hash).
ledger_entries = Table(
    "gov_ledger_entries",
    metadata,
    Column(
        "seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False
    ),
    Column("recorded", String(32), nullable=False),
    Column("patient_id", String(64)),
    Column("action", String(32), nullable=False),
    Column("leaf_hash", String(64), nullable=False),
    Column("mac", String(64), nullable=False),
    Column("content", Text, nullable=False),
)
Index("ix_gov_ledger_patient", ledger_entries.c.patient_id, ledger_entries.c.seq)

#: Signed tree heads: (size, root) signed with the ledger's Ed25519 key; `frontier` lets the
#: log resume appending without re-reading every entry.
ledger_checkpoints = Table(
    "gov_ledger_checkpoints",
    metadata,
    Column(
        "size", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False
    ),
    Column("root", String(64), nullable=False),
    Column("recorded", String(32), nullable=False),
    Column("key_id", String(64), nullable=False),
    Column("signature", String(128), nullable=False),
    Column("frontier", Text, nullable=False),
)

#: Token ids already used, for tokens whose `jti` must not be replayed.
token_jti = Table(
    "gov_token_jti",
    metadata,
    Column("jti", String(255), primary_key=True),
    Column("expires_at", BigInteger, nullable=False),
)

#: Per-patient data keys, wrapped (AES-GCM) under a master key; deleting the row shreds the data.
patient_keys = Table(
    "gov_patient_keys",
    metadata,
    Column("patient_id", String(64), primary_key=True),
    Column("master_key_id", String(64), nullable=False),
    Column("wrapped", Text, nullable=False),
    Column("created", String(32), nullable=False),
)


def create_all(engine: Engine) -> None:
    metadata.create_all(engine)
