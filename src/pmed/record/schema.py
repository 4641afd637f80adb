"""The store's one SQLAlchemy Core schema, identical on SQLite and PostgreSQL.

Resources are kept whole as JSON text (`content`) with their identity, version and patient
compartment; every supported search parameter is copied into a narrow index table per value kind
(token, string, date, reference, number), so searches are indexed lookups and never parse JSON.
Superseded and deleted versions move to `resource_history`.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

__all__ = [
    "idx_date",
    "idx_number",
    "idx_reference",
    "idx_string",
    "idx_token",
    "index_tables",
    "metadata",
    "resource_history",
    "resources",
]

metadata = MetaData()

resources = Table(
    "resources",
    metadata,
    Column("type", String(64), primary_key=True),
    Column("id", String(64), primary_key=True),
    Column("version_id", Integer, nullable=False),
    Column("last_updated", String(32), nullable=False),  # UTC, fixed width: sorts as text
    Column("patient_id", String(64)),
    Column("deleted", Boolean, nullable=False, default=False),
    Column("hash", String(64), nullable=False),
    Column("content", Text),
)
Index("ix_resources_patient", resources.c.patient_id, resources.c.type, resources.c.id)
Index("ix_resources_type_updated", resources.c.type, resources.c.last_updated)

resource_history = Table(
    "resource_history",
    metadata,
    Column("type", String(64), primary_key=True),
    Column("id", String(64), primary_key=True),
    Column("version_id", Integer, primary_key=True),
    Column("last_updated", String(32), nullable=False),
    Column("deleted", Boolean, nullable=False, default=False),
    Column("content", Text),
)


def _index_table(name: str, *value_columns: Column) -> Table:
    return Table(
        name,
        metadata,
        Column("type", String(64), nullable=False),
        Column("id", String(64), nullable=False),
        Column("param", String(64), nullable=False),
        *value_columns,
    )


idx_token = _index_table(
    "idx_token", Column("system", String(255)), Column("code", String(255), nullable=False)
)
Index("ix_token_lookup", *(idx_token.c[n] for n in ("type", "param", "code", "system", "id")))
Index("ix_token_owner", *(idx_token.c[n] for n in ("type", "id", "param", "code", "system")))

idx_string = _index_table("idx_string", Column("value", String(255), nullable=False))
Index("ix_string_lookup", *(idx_string.c[n] for n in ("type", "param", "value", "id")))
Index("ix_string_owner", *(idx_string.c[n] for n in ("type", "id", "param", "value")))

idx_date = _index_table(
    "idx_date",
    Column("low", String(32), nullable=False),
    Column("high", String(32), nullable=False),
)
Index("ix_date_lookup", *(idx_date.c[n] for n in ("type", "param", "low", "high", "id")))
Index("ix_date_owner", *(idx_date.c[n] for n in ("type", "id", "param", "low", "high")))

idx_reference = _index_table(
    "idx_reference",
    Column("target_type", String(64)),
    Column("target_id", String(255), nullable=False),
)
Index(
    "ix_reference_lookup",
    *(idx_reference.c[n] for n in ("type", "param", "target_id", "id")),
)
Index("ix_reference_owner", *(idx_reference.c[n] for n in ("type", "id", "param", "target_id")))

idx_number = _index_table(
    "idx_number", Column("value", Float, nullable=False), Column("unit", String(64))
)
Index("ix_number_lookup", *(idx_number.c[n] for n in ("type", "param", "value", "id")))
Index("ix_number_owner", *(idx_number.c[n] for n in ("type", "id", "param", "value")))

index_tables = {
    "token": idx_token,
    "string": idx_string,
    "date": idx_date,
    "reference": idx_reference,
    "number": idx_number,
}
