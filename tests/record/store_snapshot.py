"""Everything a write could change, so a test can assert that a failed write changed nothing."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from pmed.record import schema
from pmed.record.store import Store


def snapshot(store: Store) -> dict[str, Any]:
    with store.engine.connect() as conn:
        state: dict[str, Any] = {}
        for table in [schema.resources, schema.resource_history, *schema.index_tables.values()]:
            rows = conn.execute(sa.select(*table.columns)).all()
            state[table.name] = sorted(tuple(str(v) for v in row) for row in rows)
    return state
