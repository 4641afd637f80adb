"""Compile the shipped FHIR R4 structure (`knowledge/fhir/r4_structure`) into lookup tables.

One `TypeSpec` per resource, data type and BackboneElement: a dict from each JSON element name to
a `Field` tuple the checker dispatches on without further lookups. Built once, on first use.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any, NamedTuple

from pmed.errors import KnowledgeError
from pmed.knowledge import load

# Field kinds (what the checker does with a value).
K_SKIP = 0  # `resourceType` of a resource: checked by the dispatcher
K_STRING = 1  # string, markdown, xhtml: a non-empty JSON string
K_REGEX = 2  # a string primitive with the spec's regex (date, code, uri, id, …)
K_INTEGER = 3  # integer, positiveInt, unsignedInt: a JSON integer in range
K_DECIMAL = 4  # a JSON number
K_BOOLEAN = 5  # true or false
K_OBJECT = 6  # a complex type or BackboneElement: recurse
K_RESOURCE = 7  # a resource (contained, Bundle.entry.resource, Parameters.parameter.resource)
K_REFERENCE = 8  # Reference.reference: a string of one of the allowed reference shapes
K_PRIMITIVE_EXT = 9  # `_name`: the id and extensions of a primitive value

INT32 = (-(2**31), 2**31 - 1)
_INT_RANGES = {"integer": INT32, "positiveInt": (1, INT32[1]), "unsignedInt": (0, INT32[1])}
_WHAT = {
    "boolean": "true or false",
    "integer": "an integer",
    "positiveInt": "a positive integer",
    "unsignedInt": "a non-negative integer",
    "decimal": "a number",
}

# The spec's base64Binary regex, `(\s*([0-9a-zA-Z\+/=]){4}\s*)+`, backtracks exponentially on a
# long invalid value; this possessive form accepts exactly the same strings in linear time.
_REGEX_OVERRIDES = {"base64Binary": r"\s*+(?:[0-9a-zA-Z+/=]{4}\s*+)++"}


class Field(NamedTuple):
    kind: int
    many: bool  # an array in JSON
    arg: Any  # regex fullmatch, (lo, hi), TypeSpec, resource type name, or None
    group: str | None  # the choice group (`value` for valueQuantity), else None
    type: str  # the FHIR type, for messages


class TypeSpec:
    """The elements of one type, compiled."""

    __slots__ = ("choices", "fields", "name", "required", "required_choices")

    def __init__(self, name: str) -> None:
        self.name = name
        self.fields: dict[str, Field] = {}
        self.required: tuple[tuple[str, str], ...] = ()  # (name, "_name")
        self.required_choices: tuple[str, ...] = ()  # choice groups with min 1
        self.choices: dict[str, list[str]] = {}  # group → its JSON names


class Tables(NamedTuple):
    resources: dict[str, TypeSpec]
    types: dict[str, TypeSpec]
    element: TypeSpec  # what `_name` objects may hold: id and extension


def _primitive_field(type_: str, info: dict[str, Any], many: bool, group: str | None) -> Field:
    json_type = info["json"]
    if json_type == "boolean":
        return Field(K_BOOLEAN, many, None, group, type_)
    if json_type == "integer":
        return Field(K_INTEGER, many, _INT_RANGES.get(type_, INT32), group, type_)
    if json_type == "number":
        return Field(K_DECIMAL, many, None, group, type_)
    regex = _REGEX_OVERRIDES.get(type_, info["regex"])
    if type_ in ("string", "markdown", "xhtml") or not regex:
        # string/markdown: `[ \r\n\t\S]+` is any non-empty text; xhtml has no regex.
        return Field(K_STRING, many, None, group, type_)
    if re.fullmatch(regex, ""):  # uri, url, canonical: `\S*`; JSON has no empty primitives
        regex = f"(?=[\\s\\S])(?:{regex})"
    matcher: Callable[[str], Any] = re.compile(regex, re.ASCII).fullmatch
    return Field(K_REGEX, many, matcher, group, type_)


def describe(type_: str) -> str:
    """What a value of this primitive must be, for messages: 'a number', 'a valid date'."""
    return _WHAT.get(type_, f"a valid {type_}")


@lru_cache(maxsize=1)
def tables() -> Tables:
    """Compile the knowledge file once per process."""
    knowledge = load("fhir/r4_structure")
    data = knowledge.data
    try:
        primitives: dict[str, Any] = data["primitives"]
        resource_names = set(data["resources"])
        raw_types: dict[str, list[list[Any]]] = data["types"]
    except (KeyError, TypeError) as exc:
        raise KnowledgeError(f"fhir/r4_structure is malformed: {exc}") from exc
    specs = {key: TypeSpec(key) for key in raw_types}
    for key, rows in raw_types.items():
        spec = specs[key]
        required: list[tuple[str, str]] = []
        required_choices: list[str] = []
        for name, type_, min_, many, choice, ext in rows:
            group = choice or None
            if name.endswith("[x]"):
                required_choices.append(choice)
                continue
            if type_ in primitives:
                spec.fields[name] = _primitive_field(type_, primitives[type_], many, group)
            elif type_ == "Resource" or type_ in resource_names:
                spec.fields[name] = Field(
                    K_RESOURCE, many, None if type_ == "Resource" else type_, group, type_
                )
            elif type_ in specs:
                spec.fields[name] = Field(K_OBJECT, many, specs[type_], group, type_)
            else:
                raise KnowledgeError(f"fhir/r4_structure: {key}.{name} has unknown type {type_}")
            if ext:
                spec.fields["_" + name] = Field(K_PRIMITIVE_EXT, many, None, None, type_)
            if min_:
                required.append((name, "_" + name))
            if group:
                spec.choices.setdefault(group, []).append(name)
        spec.required = tuple(required)
        spec.required_choices = tuple(required_choices)
        if key in resource_names:
            spec.fields["resourceType"] = Field(K_SKIP, False, None, None, "code")
    reference = specs["Reference"]
    old = reference.fields["reference"]
    reference.fields["reference"] = old._replace(kind=K_REFERENCE)
    element = TypeSpec("Element")
    element.fields = {
        k: v for k, v in specs["Extension"].fields.items() if k in ("id", "extension")
    }
    return Tables(
        resources={name: specs[name] for name in sorted(resource_names)},
        types=specs,
        element=element,
    )
