"""Versioned clinical knowledge shipped as package data (DESIGN.md convention 3).

Each file under `pmed/knowledge/data/` is JSON of the form
`{"provenance": {"source", "version", "licence", "generated_by", ...}, "data": ...}` and is
written by a script in `tools/` from its upstream source. `load()` validates the envelope, so a
file without provenance never reaches an engine.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from pmed.errors import KnowledgeError

__all__ = ["Knowledge", "Provenance", "available", "load"]

_REQUIRED = ("source", "version", "licence", "generated_by")


@dataclass(frozen=True)
class Provenance:
    source: str
    version: str
    licence: str
    generated_by: str
    notice: str | None = None

    def label(self) -> str:
        return f"{self.source} {self.version}"


@dataclass(frozen=True)
class Knowledge:
    name: str
    provenance: Provenance
    data: Any


def _root() -> Any:
    return resources.files("pmed.knowledge").joinpath("data")


def available() -> list[str]:
    """Names of every shipped knowledge file, e.g. `codesets/conditions`."""
    names: list[str] = []

    def walk(node: Any, prefix: str) -> None:
        for child in node.iterdir():
            if child.is_dir():
                walk(child, f"{prefix}{child.name}/")
            elif child.name.endswith(".json"):
                names.append(prefix + child.name[: -len(".json")])

    walk(_root(), "")
    return sorted(names)


@cache
def load(name: str) -> Knowledge:
    """Load and validate one knowledge file by name (`pgx/alleles` → `data/pgx/alleles.json`)."""
    *folders, stem = name.split("/")
    node = _root()
    for part in folders:
        node = node.joinpath(part)
    node = node.joinpath(stem + ".json")
    try:
        raw = json.loads(node.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise KnowledgeError(f"knowledge file {name!r} is not shipped with this pmed") from exc
    except (OSError, ValueError) as exc:
        raise KnowledgeError(f"knowledge file {name!r} is unreadable: {exc}") from exc
    prov = raw.get("provenance") if isinstance(raw, dict) else None
    if not isinstance(prov, dict) or any(not prov.get(k) for k in _REQUIRED):
        raise KnowledgeError(f"knowledge file {name!r} lacks provenance ({', '.join(_REQUIRED)})")
    if "data" not in raw:
        raise KnowledgeError(f"knowledge file {name!r} has no 'data'")
    return Knowledge(
        name=name,
        provenance=Provenance(**{k: prov[k] for k in (*_REQUIRED, "notice") if k in prov}),
        data=raw["data"],
    )
