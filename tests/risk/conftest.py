"""Fixtures for the risk and dosing tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

PUBLISHED = Path(__file__).resolve().parents[1] / "data" / "risk" / "published_values.json"


@pytest.fixture(scope="session")
def published() -> dict[str, Any]:
    """Published test values, each with its source (tests/data/risk/published_values.json)."""
    data: dict[str, Any] = json.loads(PUBLISHED.read_text(encoding="utf-8"))
    return data
