"""FHIR search → SQL: each parameter becomes an `IN (SELECT id FROM idx_… WHERE …)` condition.

Supported (FHIR R4 search, http://hl7.org/fhir/R4/search.html): token `system|code`, `code`,
`system|`, `|code`, `:not`; string prefix match (case/accent-insensitive), `:exact`, `:contains`;
date with prefixes eq, ne, gt, lt, ge, le, sa, eb (ranges compared as the spec describes);
reference `Type/id` or `id`; number with prefixes on Quantity values; `patient` through the
compartment column; `_id`, `_lastUpdated`. Comma-separated values OR, repeated parameters AND.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from pmed.errors import InputError
from pmed.record import schema
from pmed.record.references import split_reference
from pmed.record.search_params import COMMON_PARAMS, SEARCH_PARAMS, date_range, normalize_string

__all__ = ["CONTROL_PARAMS", "build_search", "supported_params"]

# Result-control parameters the API reads itself; ignored here.
CONTROL_PARAMS = {
    "_count",
    "_getpagesoffset",
    "_sort",
    "_summary",
    "_format",
    "_total",
    "_elements",
    "_pretty",
}
_DATE_PREFIXES = ("eq", "ne", "gt", "lt", "ge", "le", "sa", "eb")


def supported_params(rtype: str) -> list[str]:
    names = set(SEARCH_PARAMS.get(rtype, {})) | COMMON_PARAMS
    if rtype != "Patient":
        names.add("patient")
    return sorted(names)


def _split_prefix(value: str) -> tuple[str, str]:
    if len(value) > 2 and value[:2] in _DATE_PREFIXES and (value[2].isdigit() or value[2] == "-"):
        return value[:2], value[2:]
    return "eq", value


def _date_condition(low_col: Any, high_col: Any, value: str, field: str) -> Any:
    prefix, raw = _split_prefix(value)
    try:
        p_low, p_high = date_range(raw)
    except ValueError as exc:
        raise InputError(f"{raw!r} is not a FHIR date", field=field) from exc
    if prefix == "eq":
        return sa.and_(low_col >= p_low, high_col <= p_high)
    if prefix == "ne":
        return sa.not_(sa.and_(low_col >= p_low, high_col <= p_high))
    if prefix == "gt":
        return high_col > p_high
    if prefix == "lt":
        return low_col < p_low
    if prefix == "ge":
        return high_col >= p_low
    if prefix == "le":
        return low_col <= p_high
    if prefix == "sa":
        return low_col > p_high
    return high_col < p_low  # eb


def _number_condition(col: Any, value: str, field: str) -> Any:
    prefix, raw = _split_prefix(value)
    number_text = raw.split("|", 1)[0]
    try:
        number = float(number_text)
    except ValueError as exc:
        raise InputError(f"{raw!r} is not a number", field=field) from exc
    ops = {
        "eq": col == number,
        "ne": col != number,
        "gt": col > number,
        "lt": col < number,
        "ge": col >= number,
        "le": col <= number,
        "sa": col > number,
        "eb": col < number,
    }
    return ops[prefix]


def _token_condition(t: Any, value: str) -> Any:
    if "|" not in value:
        return t.c.code == value
    system, code = value.split("|", 1)
    if not code:
        return t.c.system == system
    if not system:
        return sa.and_(t.c.code == code, t.c.system.is_(None))
    return sa.and_(t.c.system == system, t.c.code == code)


# One condition drives a search (materialised as `id IN (SELECT id …)`, an ordered list the
# database walks); the others are probed per candidate (correlated `EXISTS` on the owner indexes).
# Equality kinds are usually the most selective drivers, date ranges the least.
_DRIVE_RANK = {"token": 0, "reference": 0, "string": 1, "number": 2, "date": 3}


def _kind_of(rtype: str, name: str, modifier: str | None) -> str | None:
    """The index kind a parameter searches; None for `resources` columns and `:not`."""
    if name in ("_id", "_lastUpdated") or modifier == "not":
        return None
    definition = SEARCH_PARAMS.get(rtype, {}).get(name)
    if name == "patient" and (definition is None or definition[0] == "reference"):
        return None
    return definition[0] if definition else None


def _driver(rtype: str, parsed: Sequence[tuple[str, str | None, str]]) -> int | None:
    """The parameter that drives the search; None when the compartment or `_id` lookup does."""
    if any(
        name in ("_id", "patient") and _kind_of(rtype, name, modifier) is None
        for name, modifier, _ in parsed
    ):
        return None
    ranked = [
        (_DRIVE_RANK.get(kind, 9), i)
        for i, (name, modifier, _) in enumerate(parsed)
        if (kind := _kind_of(rtype, name, modifier)) is not None
    ]
    return min(ranked)[1] if ranked else None


def _param_condition(
    rtype: str, name: str, modifier: str | None, value: str, drive: bool = True
) -> Any:
    r = schema.resources.c
    field = f"{name}{':' + modifier if modifier else ''}"
    values = [v for v in value.split(",") if v != ""]
    if not values:
        raise InputError("empty search value", field=field)
    if name == "_id":
        return r.id.in_(values)
    if name == "_lastUpdated":
        return sa.or_(*[_date_condition(r.last_updated, r.last_updated, v, field) for v in values])
    definition = SEARCH_PARAMS.get(rtype, {}).get(name)
    if name == "patient" and (definition is None or definition[0] == "reference"):
        ids = [(split_reference(v) or ("Patient", v))[1] for v in values]
        return r.patient_id.in_(ids)
    if definition is None:
        raise InputError(
            f"{rtype} has no search parameter {name!r}; supported: "
            f"{', '.join(supported_params(rtype))}",
            field=field,
        )
    kind = definition[0]
    table = schema.index_tables[kind]
    if kind == "token":
        cond = sa.or_(*[_token_condition(table, v) for v in values])
    elif kind == "string":
        if modifier == "exact":
            cond = table.c.value.in_([normalize_string(v) for v in values])
        elif modifier == "contains":
            cond = sa.or_(
                *[table.c.value.contains(normalize_string(v), autoescape=True) for v in values]
            )
        else:
            cond = sa.or_(
                *[table.c.value.startswith(normalize_string(v), autoescape=True) for v in values]
            )
    elif kind == "date":
        cond = sa.or_(*[_date_condition(table.c.low, table.c.high, v, field) for v in values])
    elif kind == "reference":
        cond = sa.or_(
            *[table.c.target_id == ((split_reference(v) or (None, v))[1]) for v in values]
        )
    else:
        cond = sa.or_(*[_number_condition(table.c.value, v, field) for v in values])
    if (
        modifier not in (None, "not", "exact", "contains")
        or (modifier in ("exact", "contains") and kind != "string")
        or (modifier == "not" and kind != "token")
    ):
        raise InputError(f"modifier :{modifier} is not supported for {name}", field=field)
    if drive and modifier != "not":
        matching = sa.select(table.c.id).where(table.c.type == rtype, table.c.param == name, cond)
        return r.id.in_(matching)
    probe = sa.exists().where(
        table.c.type == rtype, table.c.id == r.id, table.c.param == name, cond
    )
    return sa.not_(probe) if modifier == "not" else probe


def build_search(
    rtype: str, params: Sequence[tuple[str, str]], sort: str | None
) -> tuple[list[Any], list[Any]]:
    """WHERE conditions and ORDER BY clauses for one search.

    One indexed condition drives and every other one is an `EXISTS` probe per candidate, so a
    selective condition is never intersected with a huge list: `patient=X&code=Y` walks X's
    compartment instead of materialising every Observation with code Y.
    """
    r = schema.resources.c
    where: list[Any] = [r.type == rtype, r.deleted.is_(False)]
    parsed: list[tuple[str, str | None, str]] = []
    for raw_name, value in params:
        name, _, modifier = raw_name.partition(":")
        if name in CONTROL_PARAMS:
            continue
        parsed.append((name, modifier or None, value))
    driver = _driver(rtype, parsed)
    for i, (param, param_modifier, param_value) in enumerate(parsed):
        where.append(_param_condition(rtype, param, param_modifier, param_value, drive=i == driver))
    return where, _order_by(rtype, sort)


def _order_by(rtype: str, sort: str | None) -> list[Any]:
    r = schema.resources.c
    clauses: list[Any] = []
    for key in [k.strip() for k in (sort or "").split(",") if k.strip()]:
        descending = key.startswith("-")
        name = key.lstrip("-")
        if name == "_lastUpdated":
            column: Any = r.last_updated
        elif name == "_id":
            column = r.id
        else:
            definition = SEARCH_PARAMS.get(rtype, {}).get(name)
            if definition is None or definition[0] not in ("date", "string", "number", "token"):
                raise InputError(f"cannot sort {rtype} by {name!r}", field="_sort")
            table = schema.index_tables[definition[0]]
            value_col = {"date": "low", "string": "value", "number": "value", "token": "code"}[
                definition[0]
            ]
            agg = sa.func.max if descending else sa.func.min
            column = (
                sa.select(agg(table.c[value_col]))
                .where(table.c.type == rtype, table.c.id == r.id, table.c.param == name)
                .scalar_subquery()
            )
        clauses.append(column.desc() if descending else column.asc())
    clauses.append(r.id.asc())
    return clauses
