"""Write a knowledge file in the envelope `pmed.knowledge.load` expects (with provenance)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

KNOWLEDGE_DIR = Path(__file__).resolve().parents[1] / "src" / "pmed" / "knowledge" / "data"
SHARED = Path(__file__).resolve().parents[2] / "shared"


def write_knowledge(
    name: str,
    data: Any,
    *,
    source: str,
    version: str,
    licence: str,
    generated_by: str,
    notice: str | None = None,
) -> Path:
    """Write `data` to `src/pmed/knowledge/data/<name>.json`, compact, with its provenance."""
    path = KNOWLEDGE_DIR / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    provenance = {
        "source": source,
        "version": version,
        "licence": licence,
        "generated_by": generated_by,
    }
    if notice:
        provenance["notice"] = notice
    text = json.dumps(
        {"provenance": provenance, "data": data},
        separators=(",", ":"),
        ensure_ascii=False,
        sort_keys=True,
    )
    path.write_text(text + "\n", encoding="utf-8")
    return path
