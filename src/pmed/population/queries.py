"""SQL over the store's index tables (`pmed.record.schema`): one set-based query per feature group.

Nothing here loads resources one by one: conditions, medications, observations and encounters
are found through `idx_token`/`idx_date`/`idx_number`, joined to `resources` for the patient
compartment, aggregated in the database where SQL can (first date, counts) and streamed out in
partitions otherwise. Only Patient resources (race and ethnicity live in US Core extensions that
are not indexed) and Observations whose value sits in a component (blood pressure panels) are
parsed from JSON. The same statements run on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import orjson
import polars as pl
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from pmed.population.cohort import CodeRef
from pmed.record import schema
from pmed.record.codesets import ICD10_SYSTEMS
from pmed.record.sealing import is_sealed

__all__ = [
    "COHORT",
    "cohort_table",
    "condition_dates",
    "drop_cohort_table",
    "encounter_stats",
    "first_event",
    "medication_flags",
    "observation_concepts",
    "observation_values",
    "patient_rows",
]

_PART = 20_000
_US_CORE = "http://hl7.org/fhir/us/core/StructureDefinition/"
_RACE = {
    "2106-3": "white",
    "2054-5": "black",
    "2028-9": "asian",
    "1002-5": "american indian or alaska native",
    "2076-8": "native hawaiian or pacific islander",
}
_ETHNICITY = {"2135-2": "hispanic", "2186-5": "not hispanic"}

_TEMP = sa.MetaData()
COHORT = sa.Table(
    "pmed_cohort",
    _TEMP,
    sa.Column("pid", sa.String(64), primary_key=True),
    sa.Column("idx_end", sa.String(32), nullable=False),
    sa.Column("win_start", sa.String(32), nullable=False),
    sa.Column("hz_end", sa.String(32), nullable=False),
    prefixes=["TEMPORARY"],
)

R = schema.resources
T = schema.idx_token
D = schema.idx_date
N = schema.idx_number


def _code_filter(ref: CodeRef, token: sa.Table) -> sa.ColumnElement[bool]:
    """`token` rows matching the resolved codes: exact (system, code) or ICD-10 prefix ranges."""
    by_system: dict[str, list[str]] = {}
    for system, code in ref.exact:
        by_system.setdefault(system, []).append(code)
    clauses: list[sa.ColumnElement[bool]] = [
        sa.and_(token.c.system == system, token.c.code.in_(sorted(codes)))
        for system, codes in sorted(by_system.items())
    ]
    for prefix in ref.icd10_prefixes:
        for form in {prefix, prefix.replace(".", "")}:
            upper = form[:-1] + chr(ord(form[-1]) + 1)
            clauses.append(
                sa.and_(
                    token.c.system.in_(sorted(ICD10_SYSTEMS)),
                    token.c.code >= form,
                    token.c.code < upper,
                )
            )
    return sa.or_(*clauses) if clauses else sa.false()


def _unindexed(column: Any) -> Any:
    """The column wrapped so the planner cannot drive the join by a range scan on it.

    Without statistics SQLite prefers `ix_date_lookup (type, param, low)` for a range against
    the cohort table's per-patient bounds, re-scanning every date in range for each row; the
    owner index `(type, id)` is the right access path once the token lookup drives the join.
    """
    return sa.func.coalesce(column, "")


def _patients_filter(column: Any, patient_ids: Sequence[str] | None) -> list[Any]:
    return [] if patient_ids is None else [column.in_(list(patient_ids))]


def _stream(conn: Connection, query: Any, schema_: dict[str, Any]) -> Iterator[pl.DataFrame]:
    """Rows of `query` as Polars frames of at most `_PART` rows each."""
    result = conn.execute(query.execution_options(stream_results=True, yield_per=_PART))
    names = list(schema_)
    for part in result.partitions(_PART):
        yield pl.DataFrame([tuple(row) for row in part], schema=schema_, orient="row").select(names)


def _collect(conn: Connection, query: Any, schema_: dict[str, Any]) -> pl.DataFrame:
    parts = list(_stream(conn, query, schema_))
    return pl.concat(parts) if parts else pl.DataFrame(schema=schema_)


def _json(content: str) -> dict[str, Any]:
    """A stored Observation's JSON; `{}` for one sealed at rest (`pmed.record.sealing`: genomic
    results and Observations carrying free-text notes), whose values are then not used."""
    if is_sealed(content):
        return {}
    parsed: dict[str, Any] = orjson.loads(content)
    return parsed


def _extension_code(resource: dict[str, Any], name: str, table: dict[str, str]) -> str | None:
    for ext in resource.get("extension") or ():
        if ext.get("url") != _US_CORE + name:
            continue
        text = None
        for sub in ext.get("extension") or ():
            if sub.get("url") == "ombCategory":
                code = (sub.get("valueCoding") or {}).get("code")
                if code in table:
                    return table[code]
            elif sub.get("url") == "text":
                text = sub.get("valueString")
        return "other" if text else None
    return None


def patient_rows(conn: Connection, patient_ids: Sequence[str] | None = None) -> pl.DataFrame:
    """One row per current Patient: id, birth date, sex, race, ethnicity, death date.

    Parsed from the stored JSON (streamed), since the US Core race/ethnicity extensions are not
    search parameters. Dates are ISO strings; missing values are null.
    """
    query = sa.select(R.c.id, R.c.content).where(
        R.c.type == "Patient", R.c.deleted.is_(False), *_patients_filter(R.c.id, patient_ids)
    )
    cols: dict[str, list[Any]] = {
        k: [] for k in ("patient_id", "birth_date", "sex", "race", "ethnicity", "death_date")
    }
    result = conn.execute(query.execution_options(stream_results=True, yield_per=_PART))
    for part in result.partitions(_PART):
        for rid, content in part:
            res = orjson.loads(content)
            cols["patient_id"].append(rid)
            cols["birth_date"].append(res.get("birthDate"))
            cols["sex"].append(res.get("gender"))
            cols["race"].append(_extension_code(res, "us-core-race", _RACE))
            cols["ethnicity"].append(_extension_code(res, "us-core-ethnicity", _ETHNICITY))
            dead = res.get("deceasedDateTime")
            cols["death_date"].append(dead[:10] if isinstance(dead, str) else None)
    return pl.DataFrame(cols, schema={k: pl.Utf8 for k in cols})


def cohort_table(conn: Connection, rows: list[dict[str, str]]) -> sa.Table:
    """A temporary table `pmed_cohort(pid, idx_end, win_start, hz_end)` of per-patient index
    instants (end of the index day), lookback starts and horizon ends, on this connection."""
    COHORT.drop(conn, checkfirst=True)
    COHORT.create(conn)
    for start in range(0, len(rows), _PART):
        conn.execute(COHORT.insert(), rows[start : start + _PART])
    return COHORT


def drop_cohort_table(conn: Connection) -> None:
    COHORT.drop(conn, checkfirst=True)


def first_event(
    conn: Connection,
    rtype: str,
    ref: CodeRef | None,
    window: tuple[str, str],
    patient_ids: Sequence[str] | None = None,
) -> pl.DataFrame:
    """Per patient, the first `rtype` (Encounter or Observation, matching `ref` if given) dated
    in the window: the index event. Columns: patient_id, index_at."""
    query = (
        sa.select(R.c.patient_id, sa.func.min(D.c.low))
        .select_from(D)
        .join(R, sa.and_(R.c.type == D.c.type, R.c.id == D.c.id))
        .where(
            D.c.type == rtype,
            D.c.param == "date",
            D.c.low >= window[0],
            D.c.low <= window[1],
            R.c.patient_id.is_not(None),
            *_patients_filter(R.c.patient_id, patient_ids),
        )
        .group_by(R.c.patient_id)
    )
    if ref is not None:
        param = "type" if rtype == "Encounter" else "code"
        owners = sa.select(T.c.id).where(
            T.c.type == rtype, T.c.param == param, _code_filter(ref, T)
        )
        query = query.where(D.c.id.in_(owners))
    return _collect(conn, query, {"patient_id": pl.Utf8, "index_at": pl.Utf8})


def condition_dates(conn: Connection, ref: CodeRef) -> pl.DataFrame:
    """Per cohort patient: the first matching Condition on/before their index, and the first in
    (index, horizon end]. A condition's date is its onset, else its recorded date (the earlier).
    Columns: patient_id, first_before, first_after (ISO instants, null when none)."""
    C = COHORT
    per_condition = (
        sa.select(R.c.patient_id.label("pid"), sa.func.min(D.c.low).label("low"))
        .select_from(T)
        .join(D, sa.and_(D.c.type == T.c.type, D.c.id == T.c.id))
        .join(R, sa.and_(R.c.type == T.c.type, R.c.id == T.c.id))
        .join(C, C.c.pid == R.c.patient_id)
        .where(
            T.c.type == "Condition",
            T.c.param == "code",
            _code_filter(ref, T),
            D.c.param.in_(["onset-date", "recorded-date"]),
        )
        .group_by(T.c.id, R.c.patient_id)
        .subquery()
    )
    low = per_condition.c.low
    query = (
        sa.select(
            per_condition.c.pid,
            sa.func.min(sa.case((low <= C.c.idx_end, low))).label("first_before"),
            sa.func.min(sa.case((sa.and_(low > C.c.idx_end, low <= C.c.hz_end), low))).label(
                "first_after"
            ),
        )
        .join(C, C.c.pid == per_condition.c.pid)
        .group_by(per_condition.c.pid)
    )
    return _collect(
        conn, query, {"patient_id": pl.Utf8, "first_before": pl.Utf8, "first_after": pl.Utf8}
    )


def medication_flags(conn: Connection, ref: CodeRef) -> pl.DataFrame:
    """Cohort patients with a matching MedicationRequest (authored) or MedicationStatement
    (effective) in their lookback window. Column: patient_id (one row per patient)."""
    C = COHORT
    frames = []
    for rtype, param in (("MedicationRequest", "authoredon"), ("MedicationStatement", "effective")):
        query = (
            sa.select(R.c.patient_id)
            .distinct()
            .select_from(T)
            .join(D, sa.and_(D.c.type == T.c.type, D.c.id == T.c.id))
            .join(R, sa.and_(R.c.type == T.c.type, R.c.id == T.c.id))
            .join(C, C.c.pid == R.c.patient_id)
            .where(
                T.c.type == rtype,
                T.c.param == "code",
                _code_filter(ref, T),
                D.c.param == param,
                _unindexed(D.c.low) <= C.c.idx_end,
                _unindexed(D.c.high) >= C.c.win_start,
            )
        )
        frames.append(_collect(conn, query, {"patient_id": pl.Utf8}))
    return pl.concat(frames).unique()


def observation_values(conn: Connection, ref: CodeRef, *, lookback: bool = True) -> pl.DataFrame:
    """Every value of a matching Observation of a cohort patient, dated in their lookback window
    (`lookback=False`: any date): patient_id, code, value, unit, date. Top-level `valueQuantity`
    comes from `idx_number`; values inside a component with a matching code (e.g. systolic
    8480-6 in a blood-pressure panel) are read from the JSON."""
    C = COHORT
    out_schema = {
        "patient_id": pl.Utf8,
        "code": pl.Utf8,
        "value": pl.Float64,
        "unit": pl.Utf8,
        "date": pl.Utf8,
    }
    low = _unindexed(D.c.low)
    when = [low >= C.c.win_start, low <= C.c.idx_end] if lookback else []
    top = (
        sa.select(R.c.patient_id, T.c.code, N.c.value, N.c.unit, D.c.low)
        .select_from(T)
        .join(N, sa.and_(N.c.type == T.c.type, N.c.id == T.c.id))
        .join(D, sa.and_(D.c.type == T.c.type, D.c.id == T.c.id))
        .join(R, sa.and_(R.c.type == T.c.type, R.c.id == T.c.id))
        .join(C, C.c.pid == R.c.patient_id)
        .where(
            T.c.type == "Observation",
            T.c.param == "code",
            _code_filter(ref, T),
            N.c.param == "value-quantity",
            D.c.param == "date",
            *when,
        )
    )
    frames = list(_stream(conn, top, out_schema))
    component = _observation_json(ref, "component-code", *when)
    wanted = {code for _, code in ref.exact}
    result = conn.execute(component.execution_options(stream_results=True, yield_per=_PART))
    for part in result.partitions(_PART):
        rows = []
        for pid, content, low in part:
            for comp in _json(content).get("component") or ():
                qty = comp.get("valueQuantity") or {}
                value = qty.get("value")
                if not isinstance(value, int | float) or isinstance(value, bool):
                    continue
                for coding in (comp.get("code") or {}).get("coding") or ():
                    if coding.get("code") in wanted:
                        unit = qty.get("code") or qty.get("unit")
                        rows.append((pid, coding["code"], float(value), unit, low))
                        break
        if rows:
            frames.append(pl.DataFrame(rows, schema=out_schema, orient="row"))
    return pl.concat(frames) if frames else pl.DataFrame(schema=out_schema)


def _observation_json(ref: CodeRef, param: str, *when: Any) -> Any:
    """Cohort patients' Observations matching `ref` on token `param`, with their JSON and date
    (for values the index tables do not hold)."""
    C = COHORT
    return (
        sa.select(R.c.patient_id, R.c.content, D.c.low)
        .select_from(T)
        .join(D, sa.and_(D.c.type == T.c.type, D.c.id == T.c.id))
        .join(R, sa.and_(R.c.type == T.c.type, R.c.id == T.c.id))
        .join(C, C.c.pid == R.c.patient_id)
        .where(
            T.c.type == "Observation",
            T.c.param == param,
            _code_filter(ref, T),
            D.c.param == "date",
            *when,
        )
    )


def observation_concepts(conn: Connection, ref: CodeRef) -> pl.DataFrame:
    """Coded values (`valueCodeableConcept`) of matching Observations of cohort patients in their
    lookback window, e.g. smoking status 72166-2: patient_id, system, value_code, date (one row
    per coding), read from the JSON since coded values are not indexed."""
    C = COHORT
    out_schema = {"patient_id": pl.Utf8, "system": pl.Utf8, "value_code": pl.Utf8, "date": pl.Utf8}
    low = _unindexed(D.c.low)
    query = _observation_json(ref, "code", low >= C.c.win_start, low <= C.c.idx_end)
    frames = []
    result = conn.execute(query.execution_options(stream_results=True, yield_per=_PART))
    for part in result.partitions(_PART):
        rows = []
        for pid, content, low in part:
            concept = _json(content).get("valueCodeableConcept") or {}
            for coding in concept.get("coding") or ():
                if coding.get("code"):
                    rows.append((pid, coding.get("system"), str(coding["code"]), low))
        if rows:
            frames.append(pl.DataFrame(rows, schema=out_schema, orient="row"))
    return pl.concat(frames) if frames else pl.DataFrame(schema=out_schema)


def encounter_stats(conn: Connection) -> pl.DataFrame:
    """Per cohort patient: encounters starting in their lookback window, and the first and last
    encounter dates overall (time in the record). Columns: patient_id, n_window, first_seen,
    last_seen."""
    C = COHORT
    low = D.c.low
    in_window = sa.and_(low >= C.c.win_start, low <= C.c.idx_end)
    query = (
        sa.select(
            R.c.patient_id,
            sa.func.sum(sa.case((in_window, 1), else_=0)).label("n_window"),
            sa.func.min(low).label("first_seen"),
            sa.func.max(low).label("last_seen"),
        )
        .select_from(D)
        .join(R, sa.and_(R.c.type == D.c.type, R.c.id == D.c.id))
        .join(C, C.c.pid == R.c.patient_id)
        .where(D.c.type == "Encounter", D.c.param == "date")
        .group_by(R.c.patient_id)
    )
    return _collect(
        conn,
        query,
        {"patient_id": pl.Utf8, "n_window": pl.Int64, "first_seen": pl.Utf8, "last_seen": pl.Utf8},
    )


def codes_present(
    conn: Connection, ref: CodeRef, rtypes: Sequence[str], param: str = "code"
) -> int:
    """How many index rows of these types match `ref` (0 means the codes never occur)."""
    query = (
        sa.select(sa.func.count())
        .select_from(T)
        .where(
            T.c.type.in_(list(rtypes)),
            T.c.param.in_([param, "component-code"]),
            _code_filter(ref, T),
        )
    )
    return int(conn.execute(query).scalar_one())
