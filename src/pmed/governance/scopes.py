"""SMART on FHIR scopes (App Launch 2.x, "Scopes and Launch Context"), with v1 names accepted.

A resource scope is `context/Type.permissions[?query]`: context `patient` (the launch patient's
compartment), `user` (what the user may see) or `system` (backend services); Type a FHIR type or
`*`; permissions v2 `cruds` letters in that order (create, read, update, delete, search), or v1
`read` (= `rs`), `write` (= `cud`) or `*` (= `cruds`). A v2 query narrows a scope to resources
matching token parameters (`patient/Observation.rs?category=laboratory`). Other scopes
(`openid`, `fhirUser`, `launch/patient`, `offline_access`) are kept as flags.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from pmed.errors import InputError

__all__ = ["INTERACTIONS", "Scope", "ScopeSet", "parse_scope"]

#: The v2 permission letters, in the order the specification requires them.
INTERACTIONS = "cruds"
_V1 = {"read": "rs", "write": "cud", "*": INTERACTIONS}
_PATTERN = re.compile(
    r"^(?P<ctx>patient|user|system)/(?P<type>\*|[A-Z][A-Za-z]{1,63})\.(?P<perm>[a-z*]+)"
    r"(?:\?(?P<query>[^\s]+))?$"
)


@dataclass(frozen=True)
class Scope:
    """One resource scope: which context, which type, which interactions, optionally narrowed."""

    context: str
    resource_type: str
    interactions: frozenset[str]
    query: tuple[tuple[str, str], ...] = ()

    def covers(self, resource_type: str, interaction: str) -> bool:
        return interaction in self.interactions and self.resource_type in ("*", resource_type)

    def matches(self, resource: Mapping[str, Any]) -> bool:
        """True when the resource satisfies this scope's query (token parameters on
        `category`, `code` and `_security`, `system|code` or `code`)."""
        return all(_token_matches(resource, name, value) for name, value in self.query)


def _permissions(text: str) -> frozenset[str]:
    if text in _V1:
        return frozenset(_V1[text])
    letters = [c for c in INTERACTIONS if c in text]
    if not text or "".join(letters) != text:
        raise InputError(f"scope permissions {text!r} must be letters of 'cruds' in that order")
    return frozenset(text)


def parse_scope(text: str) -> Scope | None:
    """A resource scope, or None for non-resource scopes (openid, launch/patient, ...)."""
    m = _PATTERN.match(text)
    if m is None:
        if "/" in text and text.split("/", 1)[0] in ("patient", "user", "system"):
            raise InputError(f"malformed SMART scope {text!r}", field="scope")
        return None
    query = tuple(parse_qsl(m["query"] or "", keep_blank_values=False, strict_parsing=False))
    for name, _ in query:
        if name not in ("category", "code", "_security"):
            raise InputError(f"scope {text!r} narrows on {name!r}; only category, code, _security")
    return Scope(m["ctx"], m["type"], _permissions(m["perm"]), query)


def _codings(value: Any) -> Iterable[Mapping[str, Any]]:
    for item in value if isinstance(value, list) else [value]:
        if isinstance(item, Mapping):
            if "coding" in item:
                yield from (c for c in item["coding"] or [] if isinstance(c, Mapping))
            elif "code" in item:
                yield item


def _token_matches(resource: Mapping[str, Any], name: str, value: str) -> bool:
    node = (
        (resource.get("meta") or {}).get("security") if name == "_security" else resource.get(name)
    )
    system, _, code = value.rpartition("|") if "|" in value else ("", "", value)
    for coding in _codings(node):
        if coding.get("code") == code and (not system or coding.get("system") == system):
            return True
    return False


class ScopeSet:
    """The scopes a token grants, parsed once."""

    def __init__(self, text: str | Iterable[str] = "") -> None:
        items = text.split() if isinstance(text, str) else list(text)
        self.raw = tuple(items)
        self.resource_scopes: tuple[Scope, ...] = tuple(
            s for s in (parse_scope(item) for item in items) if s is not None
        )
        self.flags = frozenset(i for i in items if parse_scope(i) is None)

    def __str__(self) -> str:
        return " ".join(self.raw)

    @property
    def launch_patient(self) -> bool:
        return "launch/patient" in self.flags or "launch" in self.flags

    def contexts(self) -> frozenset[str]:
        return frozenset(s.context for s in self.resource_scopes)

    def granting(
        self, resource_type: str, interaction: str, contexts: Iterable[str] | None = None
    ) -> list[Scope]:
        """The scopes that allow `interaction` on `resource_type` (in the given contexts)."""
        wanted = None if contexts is None else frozenset(contexts)
        return [
            s
            for s in self.resource_scopes
            if s.covers(resource_type, interaction) and (wanted is None or s.context in wanted)
        ]

    def permits(
        self,
        resource_type: str,
        interaction: str,
        contexts: Iterable[str] | None = None,
        resource: Mapping[str, Any] | None = None,
    ) -> bool:
        """True when some scope grants this; with `resource`, its query must match too."""
        for scope in self.granting(resource_type, interaction, contexts):
            if resource is None or scope.matches(resource):
                return True
        return False

    def narrowed(self, resource_type: str, interaction: str, contexts: Iterable[str]) -> bool:
        """True when every granting scope carries a query (results must be filtered)."""
        granting = self.granting(resource_type, interaction, contexts)
        return bool(granting) and all(s.query for s in granting)
