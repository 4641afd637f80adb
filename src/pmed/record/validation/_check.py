"""The structural checker: walks a resource against the compiled `TypeSpec` tables.

Fast path first: a valid value costs a dict lookup and a type test (plus a regex for the
constrained primitives); paths are only built when something is wrong. Every checking function
returns None when the value is valid, else a list of `(relative path, message)` pairs, where the
relative path starts at the element the caller passed in ("" = that value itself), so callers
prefix their own element name on the way back up.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from pmed.record.validation._tables import (
    K_BOOLEAN,
    K_DECIMAL,
    K_INTEGER,
    K_OBJECT,
    K_PRIMITIVE_EXT,
    K_REFERENCE,
    K_REGEX,
    K_RESOURCE,
    K_SKIP,
    K_STRING,
    Field,
    Tables,
    TypeSpec,
    describe,
)

Errors = list[tuple[str, str]]

# Reference.reference (FHIR R4 references.html §2.3.0.1): a relative `Type/id[/_history/vid]`,
# an absolute http(s) URL, `urn:uuid:` / `urn:oid:` (Bundle-internal), `#id` (a contained
# resource, `#` alone = the container), or a conditional `Type?query` (transaction ingest).
_REFERENCE = re.compile(
    r"(?P<type>[A-Z][A-Za-z]{1,63})"
    r"(?:/[A-Za-z0-9\-.]{1,64}(?:/_history/[A-Za-z0-9\-.]{1,64})?|\?\S+)"
    r"|#[A-Za-z0-9\-.]{0,64}"
    r"|urn:uuid:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
    r"|urn:oid:[0-2](?:\.(?:0|[1-9][0-9]*))+"
    r"|https?://\S+",
    re.ASCII,
).fullmatch
_REFERENCE_SHAPES = "Type/id, an absolute http(s) URL, urn:uuid:…, urn:oid:…, #id or Type?query"

_resources: dict[str, TypeSpec] = {}
_element = TypeSpec("Element")


def init(tables: Tables) -> None:
    """Bind the compiled tables (once per process)."""
    global _element
    _resources.update(tables.resources)
    _element = tables.element


def show(value: Any) -> str:
    """A value as it appears in JSON, shortened, for messages."""
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "…"


def check_resource(value: Any, expected: str | None) -> Errors | None:
    """A resource: known `resourceType` (equal to `expected` if given), then its elements."""
    if type(value) is not dict:
        return [("", f"expected a resource (a JSON object), got {show(value)}")]
    rtype = value.get("resourceType")
    if rtype is None:
        return [("resourceType", "required element is missing")]
    spec = _resources.get(rtype) if type(rtype) is str else None
    if spec is None:
        return [("resourceType", f"unknown resource type {show(rtype)}")]
    if expected is not None and rtype != expected:
        return [("resourceType", f"expected a {expected} resource, got {rtype}")]
    return check_object(value, spec)


def check_object(obj: dict[str, Any], spec: TypeSpec) -> Errors | None:
    """The elements of one JSON object against its type's fields."""
    fields = spec.fields
    errs: Errors | None = None
    seen: dict[str, str] | None = None  # choice group → the JSON name present
    for key, value in obj.items():
        f = fields.get(key)
        if f is None:
            errs = _add(errs, key, _unknown(key, spec))
            continue
        kind, many, arg, group, _type = f
        if group is not None:
            if seen is None:
                seen = {group: key}
            elif group in seen:
                errs = _add(
                    errs, key, f"only one of {group}[x] is allowed, {seen[group]} is here too"
                )
            else:
                seen[group] = key
        if many:
            if type(value) is not list or not value:
                errs = _add(errs, key, _not_an_array(value))
                continue
            if kind == K_OBJECT:
                for i, item in enumerate(value):
                    if type(item) is dict and item:
                        inner = check_object(item, arg)
                        if inner is not None:
                            errs = _nest(errs, f"{key}[{i}]", inner)
                    else:
                        errs = _add(errs, f"{key}[{i}]", _not_an_object(item))
                continue
            for i, item in enumerate(value):
                if kind == K_REGEX:
                    if type(item) is str and arg(item) is not None:
                        continue
                elif kind == K_STRING and type(item) is str and item:
                    continue
                if item is None and (kind == K_PRIMITIVE_EXT or ("_" + key) in obj):
                    continue  # `given: ["a", null]` + `_given: [null, {…}]` (JSON format §2.6.2)
                inner = check_value(f, item)
                if inner is not None:
                    errs = _nest(errs, f"{key}[{i}]", inner)
            if kind == K_PRIMITIVE_EXT:
                errs = _check_alignment(obj, key, value, errs)
            continue
        if kind == K_REGEX:
            if type(value) is str and arg(value) is not None:
                continue
        elif kind == K_OBJECT:
            if type(value) is dict and value:
                inner = check_object(value, arg)
                if inner is not None:
                    errs = _nest(errs, key, inner)
                continue
        elif kind == K_STRING:
            if type(value) is str and value:
                continue
        elif kind == K_REFERENCE:
            if type(value) is str:
                m = _REFERENCE(value)
                if m is not None and (m.group(1) is None or m.group(1) in _resources):
                    continue
        elif kind == K_DECIMAL:
            if type(value) is int or (type(value) is float and value - value == 0.0):
                continue  # finite: NaN and ±inf fail `x - x == 0`
        elif kind == K_BOOLEAN:
            if type(value) is bool:
                continue
        elif kind == K_SKIP:
            continue
        inner = check_value(f, value)
        if inner is not None:
            errs = _nest(errs, key, inner)
    for name, ext_name in spec.required:
        if name not in obj and ext_name not in obj:
            errs = _add(errs, name, "required element is missing")
    for group in spec.required_choices:
        if seen is None or group not in seen:
            options = ", ".join(spec.choices[group])
            errs = _add(errs, f"{group}[x]", f"required element is missing (one of {options})")
    return errs


def check_value(f: Field, value: Any) -> Errors | None:
    """One (non-array) value of a field; the slow, general path."""
    kind = f.kind
    if value is None:
        return [("", "null is not allowed here")]
    if type(value) is list:
        return [("", "expected a single value, got an array")]
    if kind == K_REGEX:
        if type(value) is not str:
            return [("", f"expected {describe(f.type)} (a string), got {show(value)}")]
        if f.arg(value) is None:
            return [("", f"not {describe(f.type)}: {show(value)}")]
        return None
    if kind == K_STRING:
        if type(value) is not str:
            return [("", f"expected a string, got {show(value)}")]
        return None if value else [("", "empty string is not allowed")]
    if kind == K_OBJECT:
        if type(value) is not dict or not value:
            return [("", _not_an_object(value))]
        return check_object(value, f.arg)
    if kind == K_DECIMAL:
        if (type(value) is int) or (type(value) is float and math.isfinite(value)):
            return None
        return [("", f"expected a number, got {show(value)}")]
    if kind == K_INTEGER:
        lo, hi = f.arg
        if type(value) is int and lo <= value <= hi:
            return None
        return [("", f"expected {describe(f.type)}, got {show(value)}")]
    if kind == K_BOOLEAN:
        return None if type(value) is bool else [("", f"expected true or false, got {show(value)}")]
    if kind == K_RESOURCE:
        return check_resource(value, f.arg)
    if kind == K_REFERENCE:
        return _check_reference(value)
    if kind == K_PRIMITIVE_EXT:
        if type(value) is not dict or not value:
            return [("", _not_an_object(value))]
        return check_object(value, _element)
    return [("", f"unexpected value {show(value)}")]  # K_SKIP never reaches here


def _check_reference(value: Any) -> Errors | None:
    if type(value) is not str:
        return [("", f"expected a string, got {show(value)}")]
    m = _REFERENCE(value)
    if m is None:
        return [("", f"not a valid reference: {show(value)} (expected {_REFERENCE_SHAPES})")]
    rtype = m.group("type")
    if rtype is not None and rtype not in _resources:
        return [("", f"unknown resource type {rtype!r} in reference {show(value)}")]
    return None


def _check_alignment(
    obj: dict[str, Any], key: str, value: list[Any], errs: Errors | None
) -> Errors | None:
    """`_given` must line up with `given` (JSON format: arrays of primitives with extensions)."""
    name = key[1:]
    values = obj.get(name)
    if values is not None and type(values) is list and len(values) != len(value):
        errs = _add(
            errs, key, f"has {len(value)} items but {name} has {len(values)}; they must line up"
        )
    return errs


def _unknown(key: str, spec: TypeSpec) -> str:
    for group, names in spec.choices.items():
        if key.startswith(group) and key[len(group) : len(group) + 1].isupper():
            return (
                f"unknown element: {key} is not an allowed type of {group}[x] ({', '.join(names)})"
            )
    if key.startswith("_") and key[1:] in spec.fields:
        return f"unknown element: {key[1:]} is not a primitive, so it takes no {key}"
    return "unknown element"


def _not_an_array(value: Any) -> str:
    if type(value) is list:
        return "empty array is not allowed"
    return f"expected an array, got {show(value)}"


def _not_an_object(value: Any) -> str:
    if type(value) is dict:
        return "empty object is not allowed"
    if type(value) is list:
        return "expected a single value, got an array"
    return f"expected an object, got {show(value)}"


def _add(errs: Errors | None, path: str, message: str) -> Errors:
    if errs is None:
        errs = []
    errs.append((path, message))
    return errs


def _nest(errs: Errors | None, prefix: str, inner: Errors) -> Errors:
    if errs is None:
        errs = []
    errs.extend((f"{prefix}.{rel}" if rel else prefix, msg) for rel, msg in inner)
    return errs
