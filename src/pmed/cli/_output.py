"""Shared CLI output helpers: JSON for scripts, rich for people."""

from __future__ import annotations

import json
import sys
from typing import Any

from rich.console import Console

__all__ = ["console", "err_console", "print_json"]

console = Console()
err_console = Console(stderr=True)


def print_json(value: Any) -> None:
    """Write one JSON document to stdout (stable key order, dates as ISO strings)."""
    sys.stdout.write(json.dumps(value, indent=2, sort_keys=True, default=str) + "\n")
