"""The FHIR resource store: SQLAlchemy Core over SQLite (default) or PostgreSQL.

Resources are stored whole; each write is versioned, superseded versions move to history, and a
write whose content equals what is stored changes nothing (idempotent ingest). Search runs over
the index tables of `pmed.record.schema`; see `pmed.record.search` for the query builder.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from pmed.config import Settings
from pmed.errors import ConflictError, GoneError, InputError, NotFoundError, StoreError
from pmed.record import schema
from pmed.record.references import split_reference
from pmed.record.sealing import Sealer, open_sealed, seal_content
from pmed.record.search_params import extract_index_rows, patient_reference_fields

__all__ = ["PreparedResource", "SearchPage", "Store", "WriteSummary", "prepare_resource"]

_SERVER_META = ("versionId", "lastUpdated")
_CHUNK = 500


@dataclass
class WriteSummary:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    by_type: dict[str, int] = field(default_factory=dict)

    @property
    def written(self) -> int:
        return self.created + self.updated

    def add(self, other: WriteSummary) -> None:
        self.created += other.created
        self.updated += other.updated
        self.unchanged += other.unchanged
        for key, value in other.by_type.items():
            self.by_type[key] = self.by_type.get(key, 0) + value


@dataclass
class SearchPage:
    total: int | None  # None: not counted (`search(..., total=False)`)
    resources: list[dict[str, Any]]
    includes: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class PreparedResource:
    """A resource ready to write: identity, serialised content, hash, compartment, index rows."""

    type: str
    id: str
    content: str
    hash: str
    patient_id: str | None
    index_rows: dict[str, list[tuple[Any, ...]]]


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")


def _instant(stored: str) -> str:
    return stored + "Z"


def prepare_resource(
    resource: dict[str, Any],
    resolve: Callable[[str], str] | None = None,
    rewrite: Callable[[bytes], bytes] | None = None,
) -> PreparedResource:
    """Serialise a resource for storage; server-owned meta fields are dropped before hashing.

    `resolve` maps reference strings for the index rows and compartment; `rewrite` applies the
    same mapping to the serialised JSON (cheaper than rebuilding the dict).
    """
    rtype, rid = resource.get("resourceType"), resource.get("id")
    if not isinstance(rtype, str) or not isinstance(rid, str) or not rid:
        raise InputError("resource needs a resourceType and an id to be stored", field="id")
    meta = resource.get("meta")
    if isinstance(meta, dict) and any(k in meta for k in _SERVER_META):
        resource = dict(resource)
        trimmed = {k: v for k, v in meta.items() if k not in _SERVER_META}
        if trimmed:
            resource["meta"] = trimmed
        else:
            del resource["meta"]
    raw = orjson.dumps(resource)
    if rewrite is not None:
        raw = rewrite(raw)
    return PreparedResource(
        type=rtype,
        id=rid,
        content=raw.decode(),
        hash=hashlib.blake2b(raw, digest_size=16).hexdigest(),
        patient_id=_patient_of(resource, resolve),
        index_rows=extract_index_rows(resource, resolve),
    )


def _patient_of(resource: dict[str, Any], resolve: Callable[[str], str] | None) -> str | None:
    if resource["resourceType"] == "Patient":
        return str(resource["id"])
    for name in patient_reference_fields(resource["resourceType"]):
        node: Any = resource
        for part in name.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        for ref in node if isinstance(node, list) else [node]:
            if isinstance(ref, dict) and isinstance(ref.get("reference"), str):
                text = resolve(ref["reference"]) if resolve else ref["reference"]
                parts = split_reference(text)
                if parts and parts[0] == "Patient":
                    return parts[1]
    return None


def _materialise(content: str | bytes, version_id: int, last_updated: str) -> dict[str, Any]:
    resource: dict[str, Any] = orjson.loads(content)
    meta = dict(resource.get("meta") or {})
    meta["versionId"] = str(version_id)
    meta["lastUpdated"] = _instant(last_updated)
    resource["meta"] = meta
    return resource


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    for pragma in (
        "journal_mode=WAL",
        "synchronous=NORMAL",
        "busy_timeout=10000",
        "cache_size=-65536",
        "temp_store=MEMORY",
        "wal_autocheckpoint=16384",  # checkpoint (and fsync) every 64 MB, not every 4 MB
    ):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


class Store:
    """One FHIR store. Open with `Store.open(settings)`; safe to share between threads."""

    def __init__(self, engine: Engine, sealer: Sealer | None = None) -> None:
        self.engine = engine
        self.sealer = sealer  # encryption at rest of sensitive content: `pmed.record.sealing`

    @classmethod
    def open(cls, settings: Settings, sealer: Sealer | None = None) -> Store:
        url = settings.resolved_database_url
        try:
            if url.startswith("sqlite"):
                path = url.split("///", 1)[-1]
                if path and path != ":memory:":
                    Path(path).parent.mkdir(parents=True, exist_ok=True)
                engine = sa.create_engine(url, connect_args={"check_same_thread": False})
                event.listen(engine, "connect", _sqlite_pragmas)
            else:
                engine = sa.create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)
            schema.metadata.create_all(engine)
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot open the store at {engine_label(url)}: {exc}") from exc
        return cls(engine, sealer)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """One database transaction: everything written inside commits together or not at all."""
        try:
            with self.engine.begin() as conn:
                yield conn
        except SQLAlchemyError as exc:
            raise StoreError(f"the store rejected the write, nothing was saved: {exc}") from exc

    @contextmanager
    def _reading(self) -> Iterator[Connection]:
        try:
            with self.engine.connect() as conn:
                yield conn
        except SQLAlchemyError as exc:
            raise StoreError(f"the store could not be read: {exc}") from exc

    # ---- reads -------------------------------------------------------------------------------

    def read(self, rtype: str, rid: str) -> dict[str, Any]:
        r = schema.resources.c
        with self._reading() as conn:
            row = conn.execute(
                sa.select(r.content, r.version_id, r.last_updated, r.deleted).where(
                    r.type == rtype, r.id == rid
                )
            ).first()
        if row is None:
            raise NotFoundError(f"{rtype}/{rid} is not in the store")
        if row.deleted:
            raise GoneError(f"{rtype}/{rid} was deleted (version {row.version_id})")
        return self._materialise(rtype, rid, row.content, row.version_id, row.last_updated)

    def _materialise(self, rtype: str, rid: str, content: str, *meta: Any) -> dict[str, Any]:
        """A stored row as a resource with its meta; sealed content is opened first."""
        return _materialise(open_sealed(self.sealer, rtype, rid, content), *meta)

    def _streamed(self, rows: Iterable[Any]) -> Iterator[dict[str, Any]]:
        for row in rows:  # a row whose patient's key was destroyed (shredded) is left out
            with suppress(GoneError):
                yield self._materialise(*row)

    def exists(self, rtype: str, rid: str) -> bool:
        r = schema.resources.c
        with self._reading() as conn:
            return (
                conn.execute(
                    sa.select(r.id).where(r.type == rtype, r.id == rid, r.deleted.is_(False))
                ).first()
                is not None
            )

    def vread(self, rtype: str, rid: str, version_id: int | str) -> dict[str, Any]:
        try:
            vid = int(version_id)
        except ValueError as exc:
            raise NotFoundError(f"{rtype}/{rid} has no version {version_id!r}") from exc
        for version in self.history(rtype, rid):
            if int(version["meta"]["versionId"]) == vid:
                if version.get("_deleted"):
                    raise GoneError(f"{rtype}/{rid} version {vid} is a deletion")
                return version
        raise NotFoundError(f"{rtype}/{rid} has no version {vid}")

    def history(self, rtype: str, rid: str) -> list[dict[str, Any]]:
        """All versions, newest first; a deletion appears as a stub with `_deleted: true`."""
        r, h = schema.resources.c, schema.resource_history.c
        with self._reading() as conn:
            current = conn.execute(
                sa.select(r.content, r.version_id, r.last_updated, r.deleted).where(
                    r.type == rtype, r.id == rid
                )
            ).first()
            if current is None:
                raise NotFoundError(f"{rtype}/{rid} is not in the store")
            older = conn.execute(
                sa.select(h.content, h.version_id, h.last_updated, h.deleted)
                .where(h.type == rtype, h.id == rid)
                .order_by(h.version_id.desc())
            ).all()
        versions = []
        for row in [current, *older]:
            if row.deleted or row.content is None:
                versions.append(
                    {
                        "resourceType": rtype,
                        "id": rid,
                        "_deleted": True,
                        "meta": {
                            "versionId": str(row.version_id),
                            "lastUpdated": _instant(row.last_updated),
                        },
                    }
                )
            else:
                versions.append(self._materialise(rtype, rid, *row[:3]))
        return versions

    def patient_resources(
        self, patient_id: str, types: Sequence[str] | None = None
    ) -> Iterator[dict[str, Any]]:
        """The patient's compartment (the Patient first), streamed; one indexed lookup."""
        r = schema.resources.c
        query = sa.select(r.type, r.id, r.content, r.version_id, r.last_updated).where(
            r.patient_id == patient_id, r.deleted.is_(False)
        )
        if types:
            query = query.where(r.type.in_(list(types)))
        rows: list[Any] = []
        with self._reading() as conn:
            result = conn.execution_options(stream_results=True, yield_per=1000).execute(
                query.order_by(r.type, r.id)
            )
            for row in result:
                if row.type == "Patient":
                    yield self._materialise(*row)
                else:
                    rows.append(row)
        yield from self._streamed(rows)

    def iter_resources(
        self,
        rtype: str | None = None,
        since: str | None = None,
        patient_ids: Sequence[str] | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Every current resource (of a type, updated after `since`), streamed for bulk export."""
        r = schema.resources.c
        query = sa.select(r.type, r.id, r.content, r.version_id, r.last_updated).where(
            r.deleted.is_(False)
        )
        if rtype:
            query = query.where(r.type == rtype)
        if since:
            query = query.where(r.last_updated > since)
        if patient_ids is not None:
            query = query.where(r.patient_id.in_(list(patient_ids)))
        with self._reading() as conn:
            result = conn.execution_options(stream_results=True, yield_per=1000).execute(
                query.order_by(r.type, r.id)
            )
            yield from self._streamed(result)

    def counts(self) -> dict[str, int]:
        """Current resources per type."""
        r = schema.resources.c
        with self._reading() as conn:
            rows = conn.execute(
                sa.select(r.type, sa.func.count()).where(r.deleted.is_(False)).group_by(r.type)
            ).all()
        return {row[0]: int(row[1]) for row in sorted(rows)}

    def search(
        self,
        rtype: str,
        params: Sequence[tuple[str, str]] = (),
        *,
        count: int = 50,
        offset: int = 0,
        sort: str | None = None,
        summary_count: bool = False,
        total: bool = True,
    ) -> SearchPage:
        """A page of matches and their number (None with `total=False`, when it would cost a count).

        The page is read first: a first page that is not full holds every match, so the count
        query (hundreds of ms for a broad search over a million rows) is skipped.
        """
        from pmed.record.search import build_search

        where, order_by = build_search(rtype, params, sort)
        r = schema.resources.c
        with self._reading() as conn:
            if summary_count or count <= 0:
                n = int(conn.execute(sa.select(sa.func.count()).where(*where)).scalar_one())
                return SearchPage(total=n, resources=[])
            rows = conn.execute(
                sa.select(r.type, r.id, r.content, r.version_id, r.last_updated)
                .where(*where)
                .order_by(*order_by)
                .limit(count)
                .offset(offset)
            ).all()
            found: int | None = None
            if len(rows) < count and (rows or offset == 0):
                found = offset + len(rows)
            elif total:
                found = int(conn.execute(sa.select(sa.func.count()).where(*where)).scalar_one())
        return SearchPage(total=found, resources=list(self._streamed(rows)))

    def optimize(self) -> None:
        """Refresh the SQLite query planner's statistics; run after bulk loads.

        Without them SQLite can pick the primary key over a selective index (a patient's
        Observations: 250 ms instead of 2 ms at 1M rows). `analysis_limit` bounds the work to
        milliseconds at any size. PostgreSQL's autovacuum keeps its own statistics.
        """
        if self.dialect != "sqlite":
            return
        with self.transaction() as conn:
            conn.exec_driver_sql("PRAGMA analysis_limit=1000")
            conn.exec_driver_sql("ANALYZE")

    # ---- writes ------------------------------------------------------------------------------

    def create(self, resource: dict[str, Any]) -> dict[str, Any]:
        """Store a new resource under a fresh id (a client-supplied id is ignored, as in FHIR)."""
        fresh = {**resource, "id": str(uuid.uuid4())}
        with self.transaction() as conn:
            self.write_prepared(conn, [prepare_resource(fresh)])
        return self.read(fresh["resourceType"], fresh["id"])

    def update(
        self, resource: dict[str, Any], if_match: str | None = None
    ) -> tuple[dict[str, Any], bool]:
        """Create or update at the resource's own id; `if_match` is the expected current version."""
        prepared = prepare_resource(resource)
        with self.transaction() as conn:
            current = self._current(conn, [prepared]).get((prepared.type, prepared.id))
            if if_match is not None:
                have = None if current is None or current.deleted else str(current.version_id)
                if have != str(if_match):
                    raise ConflictError(
                        f"{prepared.type}/{prepared.id} is at version {have or 'none'}, "
                        f"not {if_match}"
                    )
            summary = self.write_prepared(conn, [prepared])
        return self.read(prepared.type, prepared.id), summary.created == 1

    def delete(self, rtype: str, rid: str) -> None:
        """Mark deleted (a new version); the content stays in history. Unknown ids: NotFound."""
        with self.transaction() as conn:
            if not self.delete_in(conn, rtype, rid):
                raise NotFoundError(f"{rtype}/{rid} is not in the store")

    def delete_in(self, conn: Connection, rtype: str, rid: str) -> bool:
        """Delete inside the caller's transaction; False when there was nothing to delete."""
        r, h = schema.resources.c, schema.resource_history
        row = conn.execute(
            sa.select(r.version_id, r.last_updated, r.deleted, r.content).where(
                r.type == rtype, r.id == rid
            )
        ).first()
        if row is None:
            return False
        if row.deleted:
            return True
        conn.execute(
            h.insert(),
            [
                {
                    "type": rtype,
                    "id": rid,
                    "version_id": row.version_id,
                    "last_updated": row.last_updated,
                    "deleted": False,
                    "content": row.content,
                }
            ],
        )
        conn.execute(
            schema.resources.update()
            .where(r.type == rtype, r.id == rid)
            .values(
                version_id=row.version_id + 1,
                last_updated=_now(),
                deleted=True,
                content=None,
                hash="",
            )
        )
        self._drop_index_rows(conn, [(rtype, rid)])
        return True

    def write_batch(self, resources: Iterable[dict[str, Any]]) -> WriteSummary:
        """Write resources (with their ids) in one transaction: all of them, or none."""
        prepared = [prepare_resource(res) for res in resources]
        with self.transaction() as conn:
            return self.write_prepared(conn, prepared)

    def _current(
        self, conn: Connection, items: Sequence[PreparedResource]
    ) -> dict[tuple[str, str], Any]:
        """The stored rows (without content) for these identities, by primary key.

        Plain driver SQL: this runs once per ingested file, where SQLAlchemy's statement
        compilation would cost more than the lookup itself."""
        marker = _marker(conn)
        by_type: dict[str, list[str]] = {}
        for item in items:
            by_type.setdefault(item.type, []).append(item.id)
        found: dict[tuple[str, str], Any] = {}
        for rtype, ids in by_type.items():
            for start in range(0, len(ids), _CHUNK):
                chunk = ids[start : start + _CHUNK]
                rows = conn.exec_driver_sql(
                    "SELECT type, id, version_id, hash, deleted, last_updated FROM resources "
                    f"WHERE type = {marker} AND id IN ({', '.join([marker] * len(chunk))})",
                    (rtype, *chunk),
                ).all()
                found.update({(row.type, row.id): row for row in rows})
        return found

    def write_prepared(self, conn: Connection, items: Sequence[PreparedResource]) -> WriteSummary:
        """Insert new, version changed, skip identical resources, in the caller's transaction."""
        latest: dict[tuple[str, str], PreparedResource] = {}
        for item in items:  # within one batch the last write of an identity wins
            latest[(item.type, item.id)] = item
        current = self._current(conn, list(latest.values()))
        now = _now()
        summary = WriteSummary()
        inserts: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        history: list[tuple[str, str]] = []
        for key, item in latest.items():
            row = current.get(key)
            content, digest = seal_content(self.sealer, conn, item)
            if row is not None and not row.deleted and row.hash == digest:
                summary.unchanged += 1
                continue
            values = {
                "type": item.type,
                "id": item.id,
                "last_updated": now,
                "patient_id": item.patient_id,
                "deleted": False,
                "hash": digest,
                "content": content,
            }
            if row is None:
                inserts.append({**values, "version_id": 1})
                summary.created += 1
            else:
                updates.append(
                    {**{f"b_{k}": v for k, v in values.items()}, "b_version": row.version_id + 1}
                )
                if not row.deleted:
                    history.append((item.type, item.id))
                summary.updated += 1
            summary.by_type[item.type] = summary.by_type.get(item.type, 0) + 1
        if inserts:
            columns = [c.name for c in schema.resources.columns]
            _bulk_insert(conn, schema.resources, [tuple(i[c] for c in columns) for i in inserts])
        if history:  # the superseded version moves to history, copied inside the database
            m = _marker(conn)
            conn.exec_driver_sql(
                "INSERT INTO resource_history (type, id, version_id, last_updated, deleted, "
                "content) SELECT type, id, version_id, last_updated, deleted, content "
                f"FROM resources WHERE type = {m} AND id = {m}",
                history,
            )
        if updates:
            r = schema.resources.c
            conn.execute(
                schema.resources.update()
                .where(r.type == sa.bindparam("b_type"), r.id == sa.bindparam("b_id"))
                .values(
                    version_id=sa.bindparam("b_version"),
                    last_updated=sa.bindparam("b_last_updated"),
                    patient_id=sa.bindparam("b_patient_id"),
                    deleted=sa.bindparam("b_deleted"),
                    hash=sa.bindparam("b_hash"),
                    content=sa.bindparam("b_content"),
                ),
                updates,
            )
            self._drop_index_rows(conn, [(u["b_type"], u["b_id"]) for u in updates])
        changed = [latest[(str(v["type"]), str(v["id"]))] for v in inserts] + [
            latest[(str(u["b_type"]), str(u["b_id"]))] for u in updates
        ]
        self._insert_index_rows(conn, changed)
        return summary

    @staticmethod
    def _insert_index_rows(conn: Connection, items: Sequence[PreparedResource]) -> None:
        for kind, table in schema.index_tables.items():
            rows = [(item.type, item.id, *row) for item in items for row in item.index_rows[kind]]
            if rows:
                _bulk_insert(conn, table, rows)

    @staticmethod
    def _drop_index_rows(conn: Connection, keys: Sequence[tuple[str, str]]) -> None:
        params = [{"b_type": t, "b_id": i} for t, i in keys]
        for table in schema.index_tables.values():
            conn.execute(
                table.delete().where(
                    table.c.type == sa.bindparam("b_type"), table.c.id == sa.bindparam("b_id")
                ),
                params,
            )


def _marker(conn: Connection) -> str:
    """The driver's positional parameter marker (sqlite3: ?, psycopg: %s)."""
    return "?" if conn.dialect.paramstyle == "qmark" else "%s"


def _bulk_insert(conn: Connection, table: sa.Table, rows: list[tuple[Any, ...]]) -> None:
    """executemany straight to the driver: SQLAlchemy's per-row parameter processing is the
    bottleneck of ingest otherwise. Values must already be in column order and driver types."""
    marker = _marker(conn)
    columns = ", ".join(c.name for c in table.columns)
    placeholders = ", ".join([marker] * len(table.columns))
    conn.exec_driver_sql(f"INSERT INTO {table.name} ({columns}) VALUES ({placeholders})", rows)


def engine_label(url: str) -> str:
    """A URL safe to print: the password, if any, hidden."""
    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<unparseable database URL>"
